import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomically } from './data-files';

describe(writeAtomically.name, () => {
  let directory: string;
  let path: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'dcm-data-files-'));
    path = join(directory, 'credentials.json');
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a file of mode 0600 however permissive the umask, and leaves no temporary file behind', () => {
    const umask = process.umask(0);
    try {
      writeAtomically(path, '{"agentToken":"secret"}');
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(path, 'utf8')).toBe('{"agentToken":"secret"}');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(directory)).toEqual(['credentials.json']);
  });

  it('does not reuse a credentials.json.tmp left there with mode 0666', () => {
    writeFileSync(join(directory, 'credentials.json.tmp'), 'left over', { mode: 0o666 });
    const umask = process.umask(0);
    try {
      writeAtomically(path, '{"agentToken":"secret"}');
    } finally {
      process.umask(umask);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('{"agentToken":"secret"}');
    expect(readFileSync(join(directory, 'credentials.json.tmp'), 'utf8')).toBe('left over');
  });

  it('never writes through a symlink planted at credentials.json.tmp', () => {
    const elsewhere = join(directory, 'elsewhere');
    writeFileSync(elsewhere, 'not yours', { mode: 0o644 });
    symlinkSync(elsewhere, join(directory, 'credentials.json.tmp'));

    writeAtomically(path, '{"agentToken":"secret"}');

    expect(readFileSync(elsewhere, 'utf8')).toBe('not yours');
    expect(statSync(elsewhere).mode & 0o777).toBe(0o644);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('{"agentToken":"secret"}');
  });

  it('replaces a symlink at the target itself, not the file it points to', () => {
    const elsewhere = join(directory, 'elsewhere');
    writeFileSync(elsewhere, 'not yours');
    symlinkSync(elsewhere, path);

    writeAtomically(path, 'new');

    expect(readFileSync(elsewhere, 'utf8')).toBe('not yours');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('new');
  });
});
