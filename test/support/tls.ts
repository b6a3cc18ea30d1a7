import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';

export interface TestPki {
  dir: string;
  /** The CA that signed the server certificate. */
  caFile: string;
  /** Another CA, which signed nothing control serves: trusting it alone must fail. */
  otherCaFile: string;
  /** A certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  certFile: string;
  keyFile: string;
  ca: string;
  remove(): void;
}

/**
 * Makes a throwaway CA and a server certificate in a temporary directory with the openssl command (OpenSSL 3), as the
 * README tells operators to, with P-256 keys (fast to make). Valid for a day.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dcm-pki-'));
  // Each command as an operator would type it; no argument holds a space.
  const openssl = (command: string) => execFileSync('openssl', command.split(' '), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = 'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 1';
  openssl(`${newKey} -subj /CN=dcm-test-ca -keyout ca.key -out ca.pem`);
  openssl(`${newKey} -subj /CN=dcm-other-ca -keyout other-ca.key -out other-ca.pem`);
  openssl(
    `${newKey} -subj /CN=localhost -keyout control.key -out control.pem -CA ca.pem -CAkey ca.key ` +
      '-addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext basicConstraints=CA:FALSE',
  );
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    certFile: join(dir, 'control.pem'),
    keyFile: join(dir, 'control.key'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fetch dispatcher that trusts only the given CA (PEM), as the CLI does with --ca-file. */
export function trustingOnly(ca: string): Agent {
  return new Agent({ connect: { ca } });
}
