#!/usr/bin/env node
// Whether dist/ was built from the sources as they are now. `npm run build` starts with `--begin`, which hashes
// everything the build reads (and forgets the last stamp, so an interrupted build counts as stale), and ends with
// `--stamp`, which records that hash; `npm start` rebuilds only when it no longer matches the sources (or dist/ is
// gone). Hashed before the build, so an edit made while it runs is seen next time. Content rather than mtimes, so
// that a checkout that rewrites files without changing them costs nothing.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

/** What `npm run build` (one compilation of control, agent and CLI: tsconfig.build.json) reads, besides node_modules. */
const BUILD_INPUTS = ['apps', 'libs', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'];
const BUILT_ENTRY_POINTS = ['dist/apps/control/src/main.js', 'dist/apps/agent/src/main.js', 'dist/apps/cli/src/main.js'];
const STAMP = join('dist', '.source-hash');
const PENDING_STAMP = join('dist', '.source-hash.building');

function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => filesUnder(join(path, entry.name)));
}

/** SHA-256 over the path and content of every build input, in a fixed order. */
function sourceHash(root) {
  const hash = createHash('sha256');
  const files = BUILD_INPUTS.map((input) => join(root, input))
    .filter((path) => existsSync(path))
    .flatMap(filesUnder)
    .map((path) => relative(root, path))
    .sort();
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

/** Why dist/ must be rebuilt, or null when it was built from exactly these sources. */
function staleBecause(root) {
  const missing = BUILT_ENTRY_POINTS.find((entry) => !existsSync(join(root, entry)));
  if (missing) return `${missing} is missing`;
  if (!existsSync(join(root, STAMP))) return `${STAMP} is missing (dist/ was not built by npm run build)`;
  if (readFileSync(join(root, STAMP), 'utf8').trim() !== sourceHash(root)) return 'the sources changed since the last build';
  return null;
}

function beginBuild(root) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  rmSync(join(root, STAMP), { force: true });
  writeFileSync(join(root, PENDING_STAMP), `${sourceHash(root)}\n`);
}

function finishBuild(root) {
  renameSync(join(root, PENDING_STAMP), join(root, STAMP));
}

module.exports = { sourceHash, staleBecause };

if (require.main === module) {
  const steps = { '--begin': beginBuild, '--stamp': finishBuild };
  const step = steps[process.argv[2]];
  if (!step) {
    process.stderr.write('usage: node scripts/build-state.js --begin | --stamp   (before and after npm run build)\n');
    process.exit(2);
  }
  step(process.cwd());
}
