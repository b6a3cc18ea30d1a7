import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * Replaces a small file whole: a crash leaves the old content or the new, never half of each. The content goes through
 * a temporary file of a fresh random name created exclusively ('wx': O_CREAT|O_EXCL, which never opens an existing
 * file nor follows a symlink planted there), so `mode` holds and nothing else in the directory is written through.
 */
export function writeAtomically(path: string, content: string | Buffer, mode = 0o600): void {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', mode);
  try {
    fchmodSync(fd, mode); // the umask may have taken bits away; never adds any beyond `mode`
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/** A JSON file of the agent's data directory, or null when there is none. A file that is not JSON is an error. */
export function readJsonFile<T>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message})`);
  }
}
