/**
 * RFC 5923 connection reuse between the trapezoid's proxies (policy `connection-reuse`, issue 15
 * item 4): alice at a.trap.test calls bob at b.trap.test, then bob calls alice. Proxy A's INVITE
 * offers its connection (Via `alias`); both proxies verified each other's certificates, so proxy
 * B's requests to a.trap.test (bob's INVITE, ACK and BYE) go over the connection A opened: A
 * accepts no TLS connection at all. With the policy off on either side, B opens its own. A client
 * without a certificate offering an alias is refused (`alias-refused`, counted), and B's requests
 * to the domain it claimed never use its connection.
 *
 * Addresses of test/support/trapezoid-lab.ts: alice's SIPp on proxy A's address, bob's on proxy
 * B's (ports 5090 and 5091, beside the proxies' 5060 and 5061); the raw TLS client connects from
 * 127.0.0.1.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { readFile, writeFile } from 'node:fs/promises';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp, type SippRun } from '../support/sipp.js';
import { startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_USERS, type RunningProxy, type TrapezoidLab } from '../support/trapezoid-lab.js';

const SIPP = path.join(FIXTURES_DIR, 'sipp');
const UA_PORT = 5090;

let lab: TrapezoidLab;

before(async () => {
  lab = await startTrapezoidLab();
});

after(async () => {
  await lab?.stop();
});

/** A config beside the lab's with `policy: { connection-reuse: false }`. */
async function withoutReuse(side: 'a' | 'b'): Promise<string> {
  const file = path.join(lab.dir, `${side}-no-reuse.yaml`);
  await writeFile(file, `${await readFile(lab.configs[side], 'utf8')}policy: { connection-reuse: false }\n`);
  return file;
}

function logsOf(proxies: Record<string, RunningProxy>): string {
  return Object.entries(proxies).map(([name, p]) => `\nproxy ${name}:\n${p.output().slice(-5000)}`).join('');
}

function sipp(scenario: string, args: readonly string[]): { done: Promise<SippRun> } {
  return runSipp(['-sf', path.join(SIPP, scenario), '-m', '1', '-timeout', '30s', '-timeout_error', ...args], 40_000);
}

async function register(side: 'a' | 'b', user: 'alice' | 'bob', proxies: Record<string, RunningProxy>): Promise<void> {
  const password = side === 'a' ? TRAP_USERS.a.alice : TRAP_USERS.b.bob;
  const run = await sipp('uac-register.xml', [
    '-i', TRAP_ADDRESS[side], '-p', String(UA_PORT), `${TRAP_ADDRESS[side]}:5060`,
    '-s', user, '-au', user, '-ap', password, '-auth_uri', TRAP[side], '-key', 'domain', TRAP[side],
  ]).done;
  assert.equal(run.code, 0, `${user}'s REGISTER:\n${run.output.slice(-3000)}${logsOf(proxies)}`);
}

/** `from` (registered at its side's proxy, calling from UA_PORT + 1) calls `to` (answering on UA_PORT); the caller hangs up. */
async function call(from: 'a' | 'b', proxies: Record<string, RunningProxy>): Promise<void> {
  const to = from === 'a' ? 'b' : 'a';
  const [caller, callee] = from === 'a' ? ['alice', 'bob'] : ['bob', 'alice'];
  const password = from === 'a' ? TRAP_USERS.a.alice : TRAP_USERS.b.bob;
  const answering = sipp('uas-call.xml', ['-i', TRAP_ADDRESS[to], '-p', String(UA_PORT), '-mp', String(UA_PORT + 1000)]);
  const proxy = `${TRAP_ADDRESS[from]}:5060`;
  const calling = await sipp('uac-call-auth.xml', [
    '-i', TRAP_ADDRESS[from], '-p', String(UA_PORT + 1), '-mp', String(UA_PORT + 1001), proxy, '-rsa', proxy, '-d', '200',
    '-s', callee, '-au', caller, '-ap', password, '-auth_uri', `${callee}@${TRAP[to]}`,
    '-key', 'from_user', caller, '-key', 'from_domain', TRAP[from], '-key', 'to_domain', TRAP[to],
  ]).done;
  const answered = await answering.done;
  assert.equal(calling.code, 0, `${caller}'s call to ${callee}:\n${calling.output.slice(-3000)}${logsOf(proxies)}`);
  assert.equal(answered.code, 0, `${callee} answering:\n${answered.output.slice(-3000)}${logsOf(proxies)}`);
}

/**
 * alice (A) calls bob (B), then bob calls alice: B's INVITE, ACK and BYE to a.trap.test are the
 * requests from B back to A that an alias lets go over A's connection.
 */
async function callsBothWays(a: RunningProxy, b: RunningProxy): Promise<void> {
  const proxies = { A: a, B: b };
  await register('a', 'alice', proxies);
  await register('b', 'bob', proxies);
  await call('a', proxies);
  await call('b', proxies);
}

/** TLS connections a proxy accepted from the other's address (the lab's proxies connect from 127.0.0.1). */
function acceptedTls(proxy: RunningProxy): number {
  return proxy.events().filter((e) => e.event === 'tls-accepted').length;
}

function connectedTo(proxy: RunningProxy, domain: string): number {
  return proxy.events().filter((e) => e.event === 'tls-connected' && String(e.detail).startsWith(`${domain} as `)).length;
}

test('both verified each other: bob\'s call to alice (INVITE, ACK, BYE) goes over the connection proxy A opened (RFC 5923 alias)', async () => {
  const a = await startProxy(lab.configs.a);
  const b = await startProxy(lab.configs.b);
  try {
    await callsBothWays(a, b);
    const logs = logsOf({ A: a, B: b });
    assert.equal(connectedTo(a, TRAP.b), 1, `A opened one connection to B${logs}`);
    const added = b.events().find((e) => e.event === 'alias-added');
    assert.ok(added, `B honoured no alias${logs}`);
    assert.match(String(added.detail), new RegExp(`for ${TRAP.a.replace(/\./g, '\\.')}:5061; Via: SIP/2\\.0/TLS ${TRAP.a.replace(/\./g, '\\.')}:5061;branch=\\S+;alias; certificate identities ${TRAP.a.replace(/\./g, '\\.')}`));
    // bob's requests reached A on A's own connection: B connected to nobody, A accepted nothing.
    assert.equal(connectedTo(b, TRAP.a), 0, `B opened its own connection to A${logs}`);
    assert.equal(acceptedTls(a), 0, `A accepted a TLS connection${logs}`);
    const reused = b.events().find((e) => e.event === 'connection-reused');
    assert.match(String(reused?.detail), new RegExp(`inbound connection verified for ${TRAP.a.replace(/\./g, '\\.')} as ${TRAP.a.replace(/\./g, '\\.')}`), logs);
    assert.equal(reused?.connection, added.connection, logs);
    assert.equal(reused?.reason, 'dane', `A's certificate is checked against its TLSA record as a new connection's would be${logs}`);
    assert.ok(!b.events().some((e) => e.event === 'alias-refused'), logs);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('connection-reuse off at B: the alias is not honoured and B opens its own connection for bob\'s call', async () => {
  const a = await startProxy(lab.configs.a);
  const b = await startProxy(await withoutReuse('b'));
  try {
    await callsBothWays(a, b);
    const logs = logsOf({ A: a, B: b });
    assert.ok(!b.events().some((e) => /^alias-/.test(String(e.event))), logs);
    assert.equal(connectedTo(b, TRAP.a), 1, `B did not open its own connection to A${logs}`);
    assert.equal(acceptedTls(a), 1, logs);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('connection-reuse off at A: A offers no alias, and B opens its own connection for bob\'s call', async () => {
  const a = await startProxy(await withoutReuse('a'));
  const b = await startProxy(lab.configs.b);
  try {
    await callsBothWays(a, b);
    const logs = logsOf({ A: a, B: b });
    assert.ok(!b.events().some((e) => /^alias-/.test(String(e.event))), `A's Via carried alias${logs}`);
    assert.equal(connectedTo(b, TRAP.a), 1, logs);
    assert.equal(acceptedTls(a), 1, logs);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a TLS client without a certificate claiming a.trap.test with alias: B logs and counts alias-refused, and never sends it B\'s requests for a.trap.test', async () => {
  const a = await startProxy(lab.configs.a);
  const b = await startProxy(lab.configs.b);
  const raw = tls.connect({ host: TRAP_ADDRESS.b, port: 5061, servername: TRAP.b, ca: lab.certs.ca.pem });
  raw.on('error', () => undefined);
  let received = '';
  raw.on('data', (chunk: Buffer) => (received += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      raw.once('secureConnect', () => resolve());
      raw.once('error', reject);
    });
    raw.write([
      `OPTIONS sip:${TRAP.b} SIP/2.0`,
      `Via: SIP/2.0/TLS ${TRAP.a}:5061;branch=z9hG4bKaliasraw1;alias`,
      `From: <sip:mallory@${TRAP.a}>;tag=raw1`,
      `To: <sip:${TRAP.b}>`,
      'Call-ID: alias-raw-1',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '', '',
    ].join('\r\n'));
    const refused = await b.waitFor((e) => e.event === 'alias-refused');
    assert.equal(refused.level, 40, 'logged at warn (pino 40)');
    assert.equal(refused.reason, 'no-client-certificate');
    assert.match(String(refused.detail), new RegExp(`Via: SIP/2\\.0/TLS ${TRAP.a.replace(/\./g, '\\.')}:5061;branch=z9hG4bKaliasraw1;alias; certificate identities -`));
    // The request itself goes on as if it had no alias (RFC 5923 section 8.2): B answers it.
    const deadline = Date.now() + 10_000;
    while (!/^SIP\/2\.0 \d{3}/.test(received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(received, /^SIP\/2\.0 \d{3}/, `B did not answer the OPTIONS${logsOf({ A: a, B: b })}`);
    const answered = received;
    // bob's call to a.trap.test takes proxy A's own aliased connection, never the raw client's.
    await callsBothWays(a, b);
    const logs = logsOf({ A: a, B: b });
    assert.equal(received, answered, `B sent something more to the client that claimed a.trap.test${logs}`);
    const reused = b.events().find((e) => e.event === 'connection-reused');
    assert.ok(reused !== undefined && reused.connection !== refused.connection, logs);
    assert.equal(reused.connection, b.events().find((e) => e.event === 'alias-added')?.connection, logs);
  } finally {
    raw.destroy();
    await a.stop();
    await b.stop();
  }
  const stopped = b.events().find((e) => e.event === 'proxy-stopped');
  const counted = (stopped?.counted ?? {}) as Record<string, number>;
  assert.equal(counted['sipsec_proxy_policy_events_total{word=alias-refused}'], 1, JSON.stringify(stopped));
});
