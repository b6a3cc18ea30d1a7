import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as semver from 'semver';

// What `npm ci` installs (package-lock.json) against what package.json promises: every dependency supports the
// oldest Node of each line dcm supports (no EBADENGINE), and every install script is either allowed or denied.

const ROOT = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
const installed = Object.entries(lock.packages as Record<string, { engines?: { node?: string }; hasInstallScript?: boolean }>).filter(([path]) => path !== '');

/** The first version of each line `engines.node` admits: `^20.19.0 || >=24.11.0` gives 20.19.0 and 24.11.0. */
const oldestSupported = (manifest.engines.node as string).split('||').map((range) => semver.minVersion(range)!.version);

describe('Node.js support', () => {
  it('package.json supports Node 20 and the current LTS lines 24 and 26', () => {
    for (const version of ['20.19.0', '24.11.0', '26.0.0']) expect(semver.satisfies(version, manifest.engines.node)).toBe(true);
    expect(oldestSupported).toEqual(['20.19.0', '24.11.0']);
  });

  it.each(oldestSupported)('every installed package supports Node %s (npm ci warns EBADENGINE otherwise)', (version) => {
    const unsupported = installed
      .filter(([, entry]) => typeof entry.engines?.node === 'string' && !semver.satisfies(version, entry.engines.node))
      .map(([path, entry]) => `${path} requires node ${entry.engines!.node}`);
    expect(unsupported).toEqual([]);
  });

  it('every package with an install script is named in allowScripts (npm ci warns that it is not covered otherwise)', () => {
    const withScripts = installed.filter(([, entry]) => entry.hasInstallScript).map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !(name in manifest.allowScripts))).toEqual([]);
  });

  it('runs only the install scripts dcm needs: better-sqlite3 builds its native module, analytics stay off', () => {
    expect(manifest.allowScripts).toEqual({ 'better-sqlite3': true, '@scarf/scarf': false });
  });
});
