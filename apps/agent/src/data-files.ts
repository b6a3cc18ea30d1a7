import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Replaces a small file whole: a crash leaves the old content or the new, never half of each. */
export function writeAtomically(path: string, content: string | Buffer, mode = 0o600): void {
  const temporary = `${path}.tmp`;
  // The temporary file is created afresh, so `mode` holds even where an older file had another.
  writeFileSync(temporary, content, { mode, flush: true });
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
