import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ChainedEvent, GENESIS_HASH, hashEvent } from '../apps/control/src/audit/audit-chain';
import { parseAuditKey } from '../apps/control/src/config/audit-keys';
import { spawnControl } from './support/control-process';
import { createTenant, expectStatus, setQuotas } from './support/facility';
import { freePort } from './support/ports';
import { Client } from 'pg';
import { startControl } from './support/control';
import { createTestDatabase, POSTGRES_ADMIN_URL, TEST_AUDIT_KEY } from './support/postgres';
import { expectProblem } from './support/problems';
import { bootControl, ControlProcess, createDataDir, removeDataDir } from './support/restartable-control';

const KEY_A = `key-a:${Buffer.alloc(32, 1).toString('base64')}`;
const KEY_B = `key-b:${Buffer.alloc(32, 2).toString('base64')}`;
const secretOf = (key: string) => key.slice(key.indexOf(':') + 1);

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject_type: string;
  subject: string;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

const toEvent = (row: Row): ChainedEvent => ({
  seq: row.seq,
  at: new Date(row.at),
  actor: row.actor,
  action: row.action,
  subjectType: row.subject_type,
  subject: row.subject,
  before: row.before,
  after: row.after,
  prevHash: row.prev_hash,
  hash: row.hash,
  keyId: row.key_id,
});

/** The database file, as someone with access to the server could open it. */
function withDatabase<T>(dataDir: string, work: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'dcm.sqlite'));
  try {
    return work(db);
  } finally {
    db.close();
  }
}

const rows = (dataDir: string) => withDatabase(dataDir, (db) => db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[]);

/**
 * Rewrites the stored chain from `fromSeq` on after `edit`, recomputing each hash as `hashOf` says: an attacker with
 * the database but not the key can only use plain SHA-256; a test holding the key can re-seal with it.
 */
function rechain(dataDir: string, fromSeq: number, edit: (event: ChainedEvent) => void, hashOf: (event: ChainedEvent) => string): void {
  const events = rows(dataDir).map(toEvent);
  withDatabase(dataDir, (db) => {
    const update = db.prepare('UPDATE audit_events SET "before" = ?, "after" = ?, prev_hash = ?, hash = ?, key_id = ? WHERE seq = ?');
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      if (event.seq < fromSeq) continue;
      edit(event);
      event.prevHash = index === 0 ? GENESIS_HASH : events[index - 1].hash;
      event.hash = hashOf(event);
      update.run(event.before, event.after, event.prevHash, event.hash, event.keyId, event.seq);
    }
  });
}

const plainSha256 = (event: ChainedEvent) => hashEvent({ ...event, keyId: null }, null);

/** The migration that keys the chain: pending in a database the version before it wrote. */
const AUDIT_KEYS_MIGRATION = 'AuditKeys1733126400000';

/** Turns the database back into what the version before the keyed chain left: no key ids, a plain SHA-256 chain. */
function asBeforeAuditKeys(dataDir: string): void {
  rechain(dataDir, 1, (event) => (event.keyId = null), plainSha256);
  withDatabase(dataDir, (db) => {
    db.prepare('ALTER TABLE audit_events DROP COLUMN key_id').run();
    db.prepare('DELETE FROM migrations WHERE name = ?').run(AUDIT_KEYS_MIGRATION);
  });
}

const checkpoints = (dataDir: string) => rows(dataDir).filter((row) => row.action === 'audit.checkpoint');

describe('audit log: keyed chain, rotation, anchors', () => {
  let dataDir: string;
  let control: ControlProcess | null = null;

  const start = async (settings: Record<string, unknown> = {}) => {
    control = await bootControl(dataDir, settings);
    return control.api(control.tokenFile());
  };
  const stop = async () => {
    await control?.stop();
    control = null;
  };

  beforeEach(() => {
    dataDir = createDataDir();
  });

  afterEach(async () => {
    await stop();
    removeDataDir(dataDir);
  });

  it('on SQLite generates its key into <dataDir>/audit.key (0600) at the first start, and signs with it after a restart', async () => {
    let api = await start();
    await createTenant(api, 'torfaen');
    const keyFile = join(dataDir, 'audit.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = parseAuditKey(readFileSync(keyFile, 'utf8').trim());
    expect(typeof key).toBe('object');
    await stop();

    api = await start();
    await createTenant(api, 'newport');
    const verification = await expectStatus(api.get('/v1/audit/verify'), 200);
    expect(verification).toMatchObject({ intact: true, unverifiable: null, keys: [{ id: (key as { id: string }).id, available: true }] });
    expect(rows(dataDir).every((row) => row.key_id === (key as { id: string }).id)).toBe(true);
  });

  it('detects an edit re-chained with plain SHA-256 straight in the database, under the key id or as unkeyed events', async () => {
    const api = await start({ auditKey: KEY_A });
    for (const slug of ['torfaen', 'newport', 'monmouth']) await createTenant(api, slug);
    await setQuotas(api, 'newport', { vcpu: 32 });
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, checked: rows(dataDir).length });

    const forge = (event: ChainedEvent) => {
      if (event.action === 'quota.set') event.after = JSON.stringify({ vcpu: 3200 });
    };
    const quotaSeq = rows(dataDir).find((row) => row.action === 'quota.set')!.seq;
    rechain(dataDir, quotaSeq, forge, plainSha256);
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: false,
      firstBroken: { seq: quotaSeq, reason: expect.stringMatching(/do not match its hash/) },
    });

    rechain(dataDir, quotaSeq, (event) => (event.keyId = null), plainSha256);
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: false,
      firstBroken: { seq: quotaSeq, reason: expect.stringMatching(/unkeyed, after the chain was keyed/) },
    });
  });

  it('shows newest events cut off, through an anchor taken before', async () => {
    const api = await start({ auditKey: KEY_A });
    for (const slug of ['torfaen', 'newport']) await createTenant(api, slug);
    const anchor = await expectStatus(api.get('/v1/audit/anchor'), 200);
    const head = rows(dataDir).at(-1)!;
    expect(anchor).toEqual({ seq: head.seq, hash: head.hash, at: new Date(head.at).toISOString() });
    await createTenant(api, 'monmouth');
    const verifyAt = (seq: number, hash: string) => expectStatus(api.get(`/v1/audit/verify?anchorSeq=${seq}&anchorHash=${hash}`), 200);
    await expect(verifyAt(anchor.seq, anchor.hash)).resolves.toMatchObject({ intact: true, anchor: { seq: anchor.seq, hash: anchor.hash, result: 'matches' } });

    // Cutting off the newest events leaves a chain that verifies on its own; only the anchor shows the cut.
    withDatabase(dataDir, (db) => db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(anchor.seq));
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, lastSeq: anchor.seq - 1 });
    await expect(verifyAt(anchor.seq, anchor.hash)).resolves.toMatchObject({ intact: false, anchor: { seq: anchor.seq, result: 'missing' } });
    await expect(verifyAt(anchor.seq - 1, anchor.hash)).resolves.toMatchObject({ intact: false, anchor: { result: 'differs' } });

    expectProblem(await api.get(`/v1/audit/verify?anchorSeq=${anchor.seq}`), 400, 'ValidationFailed');
    expectProblem(await api.get(`/v1/audit/verify?anchorSeq=1&anchorHash=nothex`), 400, 'ValidationFailed');
  });

  it('verifies across a key rotation with the old key in the keyring, and says it cannot check events whose key is gone', async () => {
    let api = await start({ auditKey: KEY_A });
    await createTenant(api, 'torfaen');
    await createTenant(api, 'newport');
    const underA = rows(dataDir).length;
    await stop();

    api = await start({ auditKey: KEY_B, auditKeyring: [KEY_A] });
    await createTenant(api, 'monmouth');
    const total = rows(dataDir).length;
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: true,
      checked: total,
      unverifiable: null,
      keys: [
        { id: 'key-a', events: underA, firstSeq: 1, lastSeq: underA, available: true },
        { id: 'key-b', events: total - underA, firstSeq: underA + 1, lastSeq: total, available: true },
      ],
    });
    await stop();

    api = await start({ auditKey: KEY_B });
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: false,
      firstBroken: null,
      checked: total - underA,
      unverifiable: { events: underA, firstSeq: 1 },
      keys: [
        { id: 'key-a', available: false },
        { id: 'key-b', available: true },
      ],
    });
  });

  it('seals a chain written before it was keyed with a keyed checkpoint when the migration keying it runs, once, and reports the unkeyed part', async () => {
    let api = await start({ auditKey: KEY_A });
    for (const slug of ['torfaen', 'newport', 'monmouth']) await createTenant(api, slug);
    await stop();
    asBeforeAuditKeys(dataDir);
    const unkeyed = rows(dataDir);

    api = await start({ auditKey: KEY_A });
    await createTenant(api, 'blaenau-gwent');
    const [, checkpoint] = await expectStatus(api.get('/v1/audit'), 200);
    expect(checkpoint).toMatchObject({
      seq: unkeyed.length + 1,
      action: 'audit.checkpoint',
      keyId: 'key-a',
      after: { unkeyedThroughSeq: unkeyed.length, unkeyedHeadHash: unkeyed.at(-1)!.hash },
    });
    await stop();
    api = await start({ auditKey: KEY_A });
    expect(checkpoints(dataDir)).toHaveLength(1);
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: true,
      checked: unkeyed.length + 2,
      unkeyedUntilSeq: unkeyed.length,
      keys: [{ id: 'key-a', events: 2 }],
    });
  });

  it('refuses a whole chain rewritten unkeyed in the database, and never seals it at a later start', async () => {
    let api = await start({ auditKey: KEY_A });
    for (const slug of ['torfaen', 'newport']) await createTenant(api, slug);
    await setQuotas(api, 'newport', { vcpu: 32 });
    const quotaSeq = rows(dataDir).find((row) => row.action === 'quota.set')!.seq;
    // Someone with the database but not the key rewrites history as a plain SHA-256 chain, as if never keyed.
    rechain(
      dataDir,
      1,
      (event) => {
        event.keyId = null;
        if (event.seq === quotaSeq) event.after = JSON.stringify({ vcpu: 3200 });
      },
      plainSha256,
    );
    const forged = rows(dataDir).length;
    const unsealed = { seq: 1, reason: expect.stringMatching(new RegExp(`^events 1-${forged} are unkeyed and no keyed audit.checkpoint follows them`)) };
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: false, checked: 0, firstBroken: unsealed });
    await stop();

    api = await start({ auditKey: KEY_A });
    expect(rows(dataDir)).toHaveLength(forged);
    expect(checkpoints(dataDir)).toEqual([]);
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: false, firstBroken: unsealed });
    // The next event is keyed, but it is no checkpoint: the forged history stays unsealed.
    await createTenant(api, 'monmouth');
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: false,
      firstBroken: {
        seq: 1,
        reason: expect.stringMatching(/^events 1-\d+ are unkeyed and the keyed event after them \(\d+\) is tenant.create, not an audit.checkpoint/),
      },
    });
  });

  it('names the first event re-signed with a retired key after events signed with the current one', async () => {
    let api = await start({ auditKey: KEY_A });
    await createTenant(api, 'torfaen');
    await stop();
    api = await start({ auditKey: KEY_B, auditKeyring: [KEY_A] });
    await createTenant(api, 'newport');
    await setQuotas(api, 'newport', { vcpu: 32 });
    const firstUnderB = rows(dataDir).find((row) => row.key_id === 'key-b')!.seq;
    const quotaSeq = rows(dataDir).find((row) => row.action === 'quota.set')!.seq;
    expect(quotaSeq).toBeGreaterThan(firstUnderB);

    // Someone holding the retired key re-signs the newest events under it, with a forged quota.
    rechain(
      dataDir,
      quotaSeq,
      (event) => {
        event.keyId = 'key-a';
        event.after = JSON.stringify({ vcpu: 3200 });
      },
      (event) => hashEvent(event, secretOf(KEY_A)),
    );
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: false,
      checked: quotaSeq - 1,
      firstBroken: { seq: quotaSeq, reason: `it is signed by a retired key after a newer one: key-a after key-b (from event ${firstUnderB} on)` },
    });
  });

  it("names the event whose before does not continue its subject's last after, even re-sealed with the key", async () => {
    const api = await start({ auditKey: KEY_A });
    await createTenant(api, 'newport');
    await setQuotas(api, 'newport', { vcpu: 32, memory: '64GiB' });
    await setQuotas(api, 'newport', { vcpu: 40, memory: '64GiB' });
    await expectStatus(api.patch('/v1/tenants/newport', { name: 'Newport City Council' }), 200);
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({ intact: true, continuous: true, firstDiscontinuity: null });

    const second = rows(dataDir).filter((row) => row.action === 'quota.set')[1];
    rechain(
      dataDir,
      second.seq,
      (event) => {
        if (event.seq === second.seq) event.before = JSON.stringify({ vcpu: 40, memory: 64 * 2 ** 30 });
      },
      (event) => hashEvent(event, secretOf(KEY_A)),
    );
    await expect(expectStatus(api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
      intact: true,
      continuous: false,
      firstDiscontinuity: { seq: second.seq, subjectType: 'tenant', subject: 'newport', aspect: 'quota:vcpu', reason: expect.stringMatching(/vcpu|limit/) },
    });
  });

  it('refuses to start on PostgreSQL without DCM_AUDIT_KEY, saying why', async () => {
    const child = spawnControl({
      port: await freePort(),
      dataDir,
      adminToken: 'audit-key-test-admin-token-0123456789',
      env: { DCM_DATABASE_URL: POSTGRES_ADMIN_URL, DCM_AUDIT_KEY: '' },
    });
    const code = await new Promise<number | null>((resolve) => child.process.on('exit', resolve));
    expect(code).toBe(2);
    expect(child.output()).toMatch(/DCM_AUDIT_KEY \(auditKey\): is required with PostgreSQL/);
    expect(existsSync(join(dataDir, 'audit.key'))).toBe(false);
  });
});

describe('audit log on PostgreSQL: replicas sharing one key', () => {
  const ADMIN_TOKEN = 'audit-pg-test-admin-token-0123456789';

  /** Rewrites the whole chain as plain SHA-256 straight in the database; returns how many events it holds. */
  async function rechainUnkeyed(url: string, options: { asBeforeAuditKeys: boolean }): Promise<number> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: stored } = await client.query<Row>('SELECT * FROM audit_events ORDER BY seq');
      let prevHash = GENESIS_HASH;
      for (const row of stored) {
        const event = toEvent({ ...row, seq: Number(row.seq), at: Number(row.at) });
        const hash = hashEvent({ ...event, prevHash, keyId: null }, null);
        await client.query('UPDATE audit_events SET prev_hash = $1, hash = $2, key_id = NULL WHERE seq = $3', [prevHash, hash, event.seq]);
        prevHash = hash;
      }
      if (options.asBeforeAuditKeys) {
        await client.query('ALTER TABLE audit_events DROP COLUMN key_id');
        await client.query('DELETE FROM migrations WHERE name = $1', [AUDIT_KEYS_MIGRATION]);
      }
      return stored.length;
    } finally {
      await client.end();
    }
  }

  it('never seals a chain rewritten unkeyed at a later start: a rolling restart leaves it broken', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN });
      let second: Awaited<ReturnType<typeof startControl>> | undefined;
      try {
        await createTenant(first.api, 'torfaen');
        const forged = await rechainUnkeyed(database.url, { asBeforeAuditKeys: false });
        second = await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN });
        const events = await expectStatus(second.api.get('/v1/audit?limit=1000'), 200);
        expect(events).toHaveLength(forged);
        expect(events.filter((event: { action: string }) => event.action === 'audit.checkpoint')).toEqual([]);
        await expect(expectStatus(second.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
          intact: false,
          firstBroken: { seq: 1, reason: expect.stringMatching(/unkeyed and no keyed audit.checkpoint follows them/) },
        });
      } finally {
        await Promise.all([first.close(), second?.close()]);
      }
    } finally {
      await database.drop();
    }
  });

  it('seals an unkeyed chain once, however many replicas start together, and verifies under the shared key', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN });
      for (const slug of ['torfaen', 'newport', 'monmouth']) await createTenant(first.api, slug);
      await first.close();

      // What the previous version left: a plain SHA-256 chain, no key_id column, the migration keying it pending.
      const unkeyed = await rechainUnkeyed(database.url, { asBeforeAuditKeys: true }); // the bootstrap token's minting and the three tenants

      const replicas = await Promise.all([1, 2, 3].map(() => startControl({ databaseUrl: database.url, adminToken: ADMIN_TOKEN })));
      try {
        const events = await expectStatus(replicas[0].api.get('/v1/audit?limit=1000'), 200);
        expect(events.filter((event: { action: string }) => event.action === 'audit.checkpoint')).toEqual([
          expect.objectContaining({ seq: unkeyed + 1, keyId: parseAuditKeyId(TEST_AUDIT_KEY) }),
        ]);
        await createTenant(replicas[1].api, 'blaenau-gwent');
        for (const replica of replicas) {
          await expect(expectStatus(replica.api.get('/v1/audit/verify'), 200)).resolves.toMatchObject({
            intact: true,
            continuous: true,
            unkeyedUntilSeq: unkeyed,
            checked: unkeyed + 2,
          });
        }
      } finally {
        await Promise.all(replicas.map((replica) => replica.close()));
      }
    } finally {
      await database.drop();
    }
  });
});

function parseAuditKeyId(text: string): string {
  const key = parseAuditKey(text);
  if (typeof key === 'string') throw new Error(key);
  return key.id;
}
