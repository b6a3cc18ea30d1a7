/**
 * Loaded before every unit spec (jest.config.js): a unit spec runs on any machine in seconds, so it may not open a
 * connection, listen on a port or start a process (a database server, df, du). One that needs to belongs in test/,
 * which `npm run test:e2e` runs.
 */
import childProcess from 'node:child_process';
import net from 'node:net';

function refuse(what: string): () => never {
  return () => {
    throw new Error(`a unit spec may not ${what}: move the test to test/ (npm run test:e2e), or give the code a fake`);
  };
}

net.Socket.prototype.connect = refuse('open a network connection');
net.Server.prototype.listen = refuse('listen on a port');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  Object.defineProperty(childProcess, name, { value: refuse('start a process'), configurable: true, writable: true });
}
