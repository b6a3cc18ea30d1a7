import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLASSIFICATIONS } from '@dcm/domain';
import { CATALOGUES, LANGUAGES } from './i18n';

const CONSOLE = join(__dirname, '..');
const VIEWS = join(CONSOLE, 'views');

/** Keys a template or controller builds from a prefix and a value, with every value it can take. */
const DYNAMIC: Record<string, readonly string[]> = {
  'classes.': ['vcpu', 'memory', 'storage'],
  'classification.': CLASSIFICATIONS,
  'states.': ['ok', 'warning', 'over', 'active', 'frozen', 'offboarded', 'expired', 'revoked'],
  'hostStatus.': ['up', 'stale', 'down', 'maintenance'],
  'isolation.': ['shared', 'dedicated'],
  'language.': ['en', 'cy'],
  'language.switchTo.': ['en', 'cy'],
  'roles.': ['admin', 'operator', 'viewer', 'tenant'],
  'errors.': [400, 403, 404, 413, 415, 429, 500, 503].flatMap((status) => [`${status}.title`, `${status}.body`]),
  'host.origins.': ['operator', 'agent'],
  'onboard.classification.hint.': CLASSIFICATIONS,
  'onboard.isolation.hint.': ['shared', 'dedicated'],
  'onboard.quotas.hint.': ['vcpu', 'memory', 'storage'],
  'onboard.errors.': ['slug', 'name', 'contact', 'vcpu', 'memory', 'storage'],
  'audit.errors.': ['subject', 'subjectType', 'actor', 'action', 'from', 'to'],
  'organisation.done.': ['grant-created', 'grant-revoked'],
  'overview.basis.': ['allocated', 'used'],
  'showback.unit.': ['count', 'bytes'],
};

function sources(): { name: string; text: string }[] {
  const templates = readdirSync(VIEWS).map((name) => ({ name: `views/${name}`, text: readFileSync(join(VIEWS, name), 'utf8') }));
  const code = readdirSync(CONSOLE)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
    .map((name) => ({ name, text: readFileSync(join(CONSOLE, name), 'utf8') }));
  return [...templates, ...code];
}

/** Every key the console's templates and code use: t("…"), key: '…', and each value of the dynamic ones. */
function usedKeys(): { keys: Map<string, string>; prefixes: Set<string> } {
  const keys = new Map<string, string>();
  const prefixes = new Set<string>();
  for (const { name, text } of sources()) {
    for (const match of text.matchAll(/\bt\(\s*["']([\w.-]+)["']\s*([+,)])/g)) {
      if (match[2] === '+') prefixes.add(match[1]);
      else keys.set(match[1], name);
    }
    for (const match of text.matchAll(/\bkey: '([\w-]+\.[\w.-]+)'/g)) keys.set(match[1], name);
    for (const match of text.matchAll(/`([\w.-]+\.)\$\{/g)) prefixes.add(match[1]);
  }
  for (const prefix of prefixes) for (const value of DYNAMIC[prefix] ?? []) keys.set(`${prefix}${value}`, `${prefix}…`);
  return { keys, prefixes };
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('console message catalogues', () => {
  const { keys, prefixes } = usedKeys();

  it('finds the keys the templates and controllers use', () => {
    expect(keys.size).toBeGreaterThan(200);
    expect(keys.get('signIn.title')).toBe('views/sign-in.njk');
  });

  it('knows every value of every key built from a prefix', () => {
    expect([...prefixes].filter((prefix) => !(prefix in DYNAMIC))).toEqual([]);
  });

  it.each(LANGUAGES)('has every key used in the %s catalogue, none empty', (lang) => {
    const catalogue = CATALOGUES[lang] as Record<string, string>;
    const missing = [...keys].filter(([key]) => !Object.hasOwn(catalogue, key)).map(([key, where]) => `${key} (${where})`);
    expect(missing).toEqual([]);
    expect(Object.entries(catalogue).filter(([, text]) => text.trim() === '')).toEqual([]);
  });

  it('has the same keys in English and Welsh, with the same placeholders', () => {
    expect(Object.keys(CATALOGUES.cy).sort()).toEqual(Object.keys(CATALOGUES.en).sort());
    const differing = Object.keys(CATALOGUES.en).filter(
      (key) => placeholders(CATALOGUES.en[key as keyof typeof CATALOGUES.en]).join() !== placeholders(CATALOGUES.cy[key as keyof typeof CATALOGUES.cy]).join(),
    );
    expect(differing).toEqual([]);
  });

  it('fails on a key a catalogue lacks', () => {
    const withoutOne = { ...CATALOGUES.cy } as Record<string, string>;
    delete withoutOne['signIn.title'];
    expect([...keys.keys()].filter((key) => !Object.hasOwn(withoutOne, key))).toEqual(['signIn.title']);
  });
});
