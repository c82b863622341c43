/**
 * The trapezoid (draft-gurbani figure 1) with real parts: two `sipsec proxy` processes for
 * a.trap.test and b.trap.test, their zones signed and served by NSD, a private CA, SIPp user
 * agents over UDP, and far servers that fail the inter-domain hop one way each. Addresses are
 * those of test/support/trapezoid-lab.ts (127.0.0.140-149).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { SipResponse } from '../../src/sip/message.js';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp } from '../support/sipp.js';
import { askThroughProxy, showResponse } from '../support/trapezoid-ua.js';
import { startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_USERS, type RunningProxy, type TrapezoidLab } from '../support/trapezoid-lab.js';

const SIPP = path.join(FIXTURES_DIR, 'sipp');
/** The user agents: alice's SIPp and in-process UA on .143, bob's SIPp on .144. */
const ALICE_ADDRESS = '127.0.0.143';
const BOB_ADDRESS = '127.0.0.144';

let lab: TrapezoidLab;
let proxyA: RunningProxy;
let proxyB: RunningProxy;

before(async () => {
  lab = await startTrapezoidLab();
  proxyA = await startProxy(lab.configs.a);
  proxyB = await startProxy(lab.configs.b);
});

after(async () => {
  await proxyA?.stop();
  await proxyB?.stop();
  await lab?.stop();
});

function sipp(scenario: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return runSipp(['-sf', path.join(SIPP, scenario), '-m', '1', '-timeout', '30s', '-timeout_error', ...args], 40_000).done;
}

async function registerBob(port: number): Promise<void> {
  const run = await sipp('uac-register.xml', [
    '-i', BOB_ADDRESS, '-p', String(port), `${TRAP_ADDRESS.b}:5060`,
    '-s', 'bob', '-au', 'bob', '-ap', TRAP_USERS.b.bob, '-auth_uri', TRAP.b, '-key', 'domain', TRAP.b,
  ]);
  assert.equal(run.code, 0, `bob's REGISTER:\n${run.output.slice(-3000)}\n${proxyB.output().slice(-3000)}`);
}

test('bob registers at b.trap.test with digest auth; alice calls him from a.trap.test across both proxies over verified mutual TLS', async () => {
  await registerBob(5070);
  await proxyB.waitFor((e) => e.event === 'registration-added' && String(e.aor).startsWith('bob@'));
  const callee = runSipp(['-sf', path.join(SIPP, 'uas-call.xml'), '-i', BOB_ADDRESS, '-p', '5070', '-m', '1', '-timeout', '30s', '-timeout_error'], 40_000);
  const caller = await sipp('uac-call-auth.xml', [
    '-i', ALICE_ADDRESS, '-p', '5071', `${TRAP_ADDRESS.a}:5060`, '-rsa', `${TRAP_ADDRESS.a}:5060`, '-d', '200',
    '-s', 'bob', '-au', 'alice', '-ap', TRAP_USERS.a.alice, '-auth_uri', `bob@${TRAP.b}`,
    '-key', 'from_user', 'alice', '-key', 'from_domain', TRAP.a, '-key', 'to_domain', TRAP.b,
  ]);
  const called = await callee.done;
  const logs = `\nproxy A:\n${proxyA.output().slice(-4000)}\nproxy B:\n${proxyB.output().slice(-4000)}`;
  assert.equal(caller.code, 0, `alice's call:\n${caller.output.slice(-3000)}${logs}`);
  assert.equal(called.code, 0, `bob's side:\n${called.output.slice(-3000)}${logs}`);
  // Each side logged the inter-domain connection with its verdict: A verified B (RFC 5922: b has
  // no TLSA), B saw A's client certificate authenticated.
  const connected = proxyA.events().find((e) => e.event === 'tls-connected');
  assert.equal(connected?.reason, 'rfc5922', logs);
  assert.match(String(connected?.detail), new RegExp(`^${TRAP.b} as ${TRAP.b.replace(/\./g, '\\.')}`), logs);
  const accepted = proxyB.events().find((e) => e.event === 'tls-accepted');
  assert.equal(accepted?.reason, 'client-authenticated', logs);
  assert.match(String(accepted?.detail), new RegExp(TRAP.a.replace(/\./g, '\\.')), logs);
});

/** alice's own UA in this process: sends a request through proxy A and answers its 407 once. */
function aliceAsks(method: string, target: string): Promise<SipResponse> {
  return askThroughProxy({ address: ALICE_ADDRESS, proxy: TRAP_ADDRESS.a, user: 'alice', domain: TRAP.a, password: TRAP_USERS.a.alice }, method, target);
}

test('an authenticated request reaches the far domain: OPTIONS to bob\'s domain gets the far proxy\'s answer', async () => {
  const response = await aliceAsks('OPTIONS', `sip:${TRAP.b}`);
  assert.equal(response.status, 200, showResponse(response));
});

for (const [domain, word] of [
  [TRAP.wrongCert, /peer-not-authenticated/],
  [TRAP.unknownCa, /peer-not-authenticated/],
  [TRAP.expired, /peer-not-authenticated/],
  [TRAP.daneMismatch, /peer-not-authenticated/],
  [TRAP.bogus, /bogus/],
  [TRAP.nobody, /connection-refused/],
] as const) {
  test(`a hop to ${domain} fails with a final response that says why, at once`, async () => {
    const response = await aliceAsks('OPTIONS', `sip:carol@${domain}`);
    assert.ok(response.status >= 400, showResponse(response));
    const said = `${response.header('warning') ?? ''} ${response.header('reason') ?? ''}`;
    assert.match(said, word, `${showResponse(response)}\n${proxyA.output().slice(-3000)}`);
  });
}
