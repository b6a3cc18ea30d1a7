import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expectStatus } from '../support/facility';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from '../support/restartable-control';

/** Every file and directory under `dir`, with its permission bits in octal. */
function modesUnder(dir: string): Record<string, string> {
  const modes: Record<string, string> = { '.': (statSync(dir).mode & 0o777).toString(8) };
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) modes[entry] = (statSync(join(dir, entry)).mode & 0o777).toString(8);
  return modes;
}

describe('files control creates', () => {
  let parent: string;
  let running: ControlProcess | undefined;
  let umask: number;

  beforeEach(() => {
    parent = createDataDir();
    umask = process.umask(0o022); // as a shell outside systemd would start it
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    process.umask(umask);
    removeDataDir(parent);
  });

  it('are its own user only under umask 022: the data directory 0700, the database, its WAL and the token 0600', async () => {
    const dataDir = join(parent, 'data');
    running = await bootControl(dataDir);
    await expectStatus(running.api(running.tokenFile()).post('/v1/tenants', { slug: 'torfaen', name: 'Torfaen' }), 201);

    const modes = modesUnder(dataDir);
    expect(Object.keys(modes)).toEqual(expect.arrayContaining(['dcm.sqlite', 'dcm.sqlite-wal', 'dcm.sqlite-shm', 'admin.token']));
    expect(modes).toEqual(Object.fromEntries(Object.keys(modes).map((name) => [name, name === '.' ? '700' : '600'])));
  });

  it('narrows a data directory and database files left readable by an earlier start', async () => {
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    running = await bootControl(dataDir);
    await running.stop();
    for (const file of ['dcm.sqlite', 'dcm.sqlite-wal', 'dcm.sqlite-shm', 'admin.token']) {
      closeSync(openSync(join(dataDir, file), 'a'));
      chmodSync(join(dataDir, file), 0o644);
    }
    chmodSync(dataDir, 0o755);

    running = await bootControl(dataDir);
    await expectStatus(running.api(running.tokenFile()).get('/v1/tenants'), 200);

    const modes = modesUnder(dataDir);
    expect(modes).toEqual(Object.fromEntries(Object.keys(modes).map((name) => [name, name === '.' ? '700' : '600'])));
  });
});
