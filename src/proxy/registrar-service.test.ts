/**
 * The registrar service through real server transactions (no sockets) on a real SQLite location
 * store in a temporary file: every case of issue 13 item 3.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DigestAuthenticator, type DigestAlgorithm } from '../registrar/digest.js';
import { SqliteLocationStore } from '../registrar/location-sqlite.js';
import type { LocationStore } from '../registrar/location-store.js';
import { credentialEntry, parseUsersFile, type UserDirectory } from '../registrar/users.js';
import type { SipResponse } from '../sip/message.js';
import { parseSipUri } from '../sip/uri.js';
import type { LocalDomains } from './contracts.js';
import { LocalUsersService } from './local-users.js';
import { RegisterClient, type ClientIdentity } from './register-client.test.support.js';
import { RegisterHarness, type HarnessSource } from './register-harness.test.support.js';
import { domainOf, RegistrarService } from './registrar-service.js';
import type { RegistrationLogger } from './registration-log.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-registrar-service-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const SECRET = Buffer.from('registrar-service-test-secret-32');
const DOMAINS: LocalDomains = { isLocal: (host) => domainOf(host) === 'b.test' };

function usersFile(): UserDirectory {
  const entries = { 'bob@b.test': credentialEntry('bob@b.test', 'secret'), 'alice@b.test': credentialEntry('alice@b.test', 'wonder') };
  const text = Object.entries(entries)
    .map(([address, e]) => `${address}:\n${Object.entries(e).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}`)
    .join('\n');
  return parseUsersFile(text, 'users.yaml').users;
}

const USERS = usersFile();
let fileCounter = 0;

interface Setup {
  readonly store: LocationStore;
  readonly service: RegistrarService;
  readonly harness: RegisterHarness;
  readonly logs: Array<{ level: string; event: string; fields: Readonly<Record<string, unknown>> }>;
  readonly file: string;
  client(identity?: Partial<ClientIdentity>, source?: HarnessSource): RegisterClient;
  close(): Promise<void>;
}

const UDP: HarnessSource = { transport: 'udp', remote: { address: '192.0.2.4', port: 5060 } };

function setup(options: { algorithms?: DigestAlgorithm[]; maxBindingsPerAor?: number; file?: string; store?: LocationStore } = {}): Setup {
  const file = options.file ?? path.join(dir, `location-${++fileCounter}.db`);
  const store = options.store ?? new SqliteLocationStore({ path: file, sweepIntervalMs: 0 });
  const logs: Setup['logs'] = [];
  const log: RegistrationLogger = (level, event, fields) => logs.push({ level, event, fields });
  const service = new RegistrarService({
    users: USERS,
    authenticator: new DigestAuthenticator({ secret: SECRET, ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }) }),
    store,
    localDomains: DOMAINS,
    log,
    ...(options.maxBindingsPerAor === undefined ? {} : { limits: { maxBindingsPerAor: options.maxBindingsPerAor } }),
  });
  const harness = new RegisterHarness(service);
  return {
    store,
    service,
    harness,
    logs,
    file,
    client: (identity = {}, source = UDP) =>
      new RegisterClient({ address: 'bob@b.test', password: 'secret', via: { transport: source.transport.toUpperCase(), host: source.remote.address }, ...identity }, harness.exchange(source)),
    close: async () => {
      await harness.close();
      await store.close();
    },
  };
}

function contacts(response: SipResponse): string[] {
  return response.fields('contact').map((f) => f.value);
}

test('a REGISTER without credentials is challenged: 401, one WWW-Authenticate per configured algorithm in order, realm the To domain, qop auth', async () => {
  const s = setup();
  try {
    const response = await s.client().unauthenticated({ headers: ['Contact: <sip:bob@192.0.2.4>'] });
    assert.equal(response.status, 401);
    const challenges = response.fields('www-authenticate').map((f) => f.value);
    assert.equal(challenges.length, 2);
    assert.match(challenges[0] ?? '', /^Digest realm="b\.test", nonce="[^"]+", algorithm=SHA-256, qop="auth"$/);
    assert.match(challenges[1] ?? '', /^Digest realm="b\.test", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    assert.notEqual(response.toTag(), undefined);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
  } finally {
    await s.close();
  }
  const md5Only = setup({ algorithms: ['MD5'] });
  try {
    const client = md5Only.client();
    const response = await client.unauthenticated();
    assert.deepEqual(response.fields('www-authenticate').map((f) => /algorithm=([^,]+)/.exec(f.value)?.[1]), ['MD5']);
    assert.equal((await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>'] })).status, 200);
  } finally {
    await md5Only.close();
  }
});

test('SHA-256 and MD5 credentials both register; the 200 lists the bindings', async () => {
  const s = setup();
  try {
    const client = s.client();
    const sha = await client.register({ algorithm: 'SHA-256', headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 600'] });
    assert.equal(sha.status, 200);
    assert.deepEqual(contacts(sha), ['<sip:bob@192.0.2.4>;expires=600']);
    const md5 = await client.register({ algorithm: 'MD5', headers: ['Contact: <sip:bob@192.0.2.5>', 'Expires: 600'] });
    assert.equal(md5.status, 200);
    assert.deepEqual(contacts(md5), ['<sip:bob@192.0.2.4>;expires=600', '<sip:bob@192.0.2.5>;expires=600']);
    assert.equal((await s.store.get('bob@b.test')).length, 2);
  } finally {
    await s.close();
  }
});

/** The answer with its nonces and To tag masked: what a guesser could compare. */
function shape(response: SipResponse): string {
  return [
    `${response.status} ${response.reason}`,
    ...response.headers.filter((h) => !['via', 'from', 'to', 'call-id', 'cseq'].includes(h.key)).map((h) => `${h.key}: ${h.value.replace(/nonce="[^"]+"/, 'nonce=N')}`),
  ].join('\n');
}

test('a wrong password and an unknown user get the same answer (no user enumeration); nothing is stored', async () => {
  const s = setup();
  try {
    const wrong = await s.client().register({ password: 'guess', headers: ['Contact: <sip:bob@192.0.2.4>'] });
    const unknown = await s.client({ address: 'mallory@b.test', password: 'guess' }).register({ headers: ['Contact: <sip:mallory@192.0.2.4>'] });
    assert.equal(wrong.status, 401);
    assert.equal(shape(wrong), shape(unknown));
    assert.doesNotMatch(shape(wrong), /stale/);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
    assert.deepEqual(await s.store.get('mallory@b.test'), []);
    // The wire says nothing; the operator's log names the account tried, at warn.
    const failed = s.logs.filter((l) => l.event === 'register-auth-failed');
    assert.deepEqual(failed.map((l) => [l.level, l.fields['user']]), [['warn', 'bob'], ['warn', 'mallory']]);
  } finally {
    await s.close();
  }
});

test("403 for someone else's AOR: alice, authenticated, may not register bob", async () => {
  const s = setup();
  try {
    const response = await s.client({ address: 'alice@b.test', password: 'wonder' }).register({ aor: 'bob@b.test', headers: ['Contact: <sip:alice@192.0.2.9>'] });
    assert.equal(response.status, 403);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
    assert.ok(s.logs.some((l) => l.event === 'register-refused' && l.fields['status'] === 403 && l.fields['user'] === 'alice@b.test'));
  } finally {
    await s.close();
  }
});

test('add, refresh, remove, q-values, Contact: * with Expires: 0; each change logged; the 200 lists the current bindings', async () => {
  const s = setup();
  try {
    const client = s.client();
    const added = await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>;q=0.7', 'Expires: 600'] });
    assert.deepEqual(contacts(added), ['<sip:bob@192.0.2.4>;expires=600;q=0.7']);
    const second = await client.register({ headers: ['Contact: <sip:bob@192.0.2.5>;q=1', 'Expires: 600'] });
    assert.deepEqual(contacts(second), ['<sip:bob@192.0.2.4>;expires=600;q=0.7', '<sip:bob@192.0.2.5>;expires=600;q=1']);
    const refreshed = await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>;q=0.5', 'Expires: 1200'] });
    assert.deepEqual(contacts(refreshed), ['<sip:bob@192.0.2.4>;expires=1200;q=0.5', '<sip:bob@192.0.2.5>;expires=600;q=1']);
    const removed = await client.register({ headers: ['Contact: <sip:bob@192.0.2.5>;expires=0'] });
    assert.deepEqual(contacts(removed), ['<sip:bob@192.0.2.4>;expires=1200;q=0.5']);
    // A query (no Contact) lists without changing.
    assert.deepEqual(contacts(await client.register()), ['<sip:bob@192.0.2.4>;expires=1200;q=0.5']);
    assert.equal((await client.register({ headers: ['Contact: *'] })).status, 400);
    const star = await client.register({ headers: ['Contact: *', 'Expires: 0'] });
    assert.equal(star.status, 200);
    assert.deepEqual(contacts(star), []);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
    const lookup = await new LocalUsersService({ users: USERS, store: s.store, isConnectionOpen: () => false }).lookup(parseSipUri('sip:bob@b.test'), { sipsOnly: false });
    assert.deepEqual(lookup, { kind: 'unavailable', status: 480, why: 'not-registered' });
    const changes = s.logs.filter((l) => l.event.startsWith('registration-')).map((l) => `${l.event} ${String(l.fields['contact'])}`);
    assert.deepEqual(changes, [
      'registration-added sip:bob@192.0.2.4',
      'registration-added sip:bob@192.0.2.5',
      'registration-refreshed sip:bob@192.0.2.4',
      'registration-removed sip:bob@192.0.2.5',
      'registration-removed sip:bob@192.0.2.4',
    ]);
    const first = s.logs.find((l) => l.event === 'registration-added');
    assert.deepEqual(
      { transport: first?.fields['transport'], remote: first?.fields['remote'], aor: first?.fields['aor'], expiresS: first?.fields['expiresS'] },
      { transport: 'udp', remote: '192.0.2.4:5060', aor: 'bob@b.test', expiresS: 600 },
    );
  } finally {
    await s.close();
  }
});

test('423 with Min-Expires for a too brief registration; nothing stored', async () => {
  const s = setup();
  try {
    const response = await s.client().register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 30'] });
    assert.equal(response.status, 423);
    assert.deepEqual(response.headerValues('min-expires'), ['60']);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
  } finally {
    await s.close();
  }
});

test('the per-AOR binding limit refuses a REGISTER that would pass it, and keeps what was there', async () => {
  const s = setup({ maxBindingsPerAor: 2 });
  try {
    const client = s.client();
    assert.equal((await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>'] })).status, 200);
    const third = await client.register({ headers: ['Contact: <sip:bob@192.0.2.6>'] });
    assert.equal(third.status, 403);
    assert.deepEqual((await s.store.get('bob@b.test')).map((b) => b.contact), ['sip:bob@192.0.2.4', 'sip:bob@192.0.2.5']);
    // A refresh still passes.
    assert.equal((await client.register({ headers: ['Contact: <sip:bob@192.0.2.5>'] })).status, 200);
  } finally {
    await s.close();
  }
});

test('Call-ID/CSeq ordering: a REGISTER of the same Call-ID with a CSeq not above the binding is refused and changes nothing', async () => {
  const s = setup();
  try {
    const client = s.client();
    client.cseq = 20;
    assert.equal((await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 600'] })).status, 200);
    const stored = await s.store.get('bob@b.test');
    assert.equal(stored[0]?.cseq, 22);
    client.cseq = 19;
    const late = await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 0'] });
    assert.equal(late.status, 500);
    assert.deepEqual(await s.store.get('bob@b.test'), stored);
    // Another Call-ID (a UA that restarted) may change it.
    const other = s.client();
    assert.equal((await other.register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 0'] })).status, 200);
    assert.deepEqual(await s.store.get('bob@b.test'), []);
  } finally {
    await s.close();
  }
});

test('a To in a domain that is not ours is 404 without a challenge', async () => {
  const s = setup();
  try {
    const foreign = await s.client().unauthenticated({ aor: 'bob@c.test' });
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.fields('www-authenticate'), []);
  } finally {
    await s.close();
  }
});

test('a restart keeps the bindings: a new store on the same SQLite file, a new service, and LocalUsers finds the flow', async () => {
  const file = path.join(dir, 'restart.db');
  const tcp: HarnessSource = { transport: 'tcp', remote: { address: '198.51.100.7', port: 40_123 }, connectionId: 'c7' };
  const first = setup({ file });
  assert.equal((await first.client({}, tcp).register({ headers: ['Contact: <sip:bob@10.0.0.4:5060;transport=tcp>', 'Expires: 600'] })).status, 200);
  await first.close();
  const second = setup({ file });
  try {
    const query = await second.client().register();
    assert.equal(query.status, 200);
    assert.equal(contacts(query).length, 1);
    assert.match(contacts(query)[0] ?? '', /^<sip:bob@10\.0\.0\.4:5060;transport=tcp>;expires=\d+$/);
    const users = new LocalUsersService({ users: USERS, store: second.store, isConnectionOpen: (id) => id === 'c7' });
    const found = await users.lookup(parseSipUri('sip:bob@b.test'), { sipsOnly: false });
    assert.equal(found.kind, 'targets');
    assert.deepEqual(found.kind === 'targets' && found.targets.map((t) => t.destination), [{ transport: 'tcp', address: '198.51.100.7', port: 40_123, connectionId: 'c7' }]);
  } finally {
    await second.close();
  }
});

test('a failing location backend (SQLite locked by another process) gives 500 with Retry-After; the next REGISTER after it returns succeeds', async () => {
  const file = path.join(dir, 'locked.db');
  const s = setup({ file, store: new SqliteLocationStore({ path: file, sweepIntervalMs: 0, busyTimeoutMs: 0 }) });
  const other = new Database(file);
  try {
    const client = s.client();
    other.exec('BEGIN IMMEDIATE');
    const failed = await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>'] });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.headerValues('retry-after'), ['5']);
    assert.ok(s.logs.some((l) => l.event === 'location-unavailable' && l.fields['code'] === 'LOCATION_ERR_UNAVAILABLE'));
    other.exec('COMMIT');
    const ok = await client.register({ headers: ['Contact: <sip:bob@192.0.2.4>'] });
    assert.equal(ok.status, 200);
    assert.equal((await s.store.get('bob@b.test')).length, 1);
  } finally {
    other.close();
    await s.close();
  }
});
