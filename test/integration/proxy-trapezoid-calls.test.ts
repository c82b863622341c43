/**
 * Calls across the trapezoid (draft-gurbani figure 1) with real user agents: SIPp on both sides
 * and baresip as a TLS client of proxy a. Each caller authenticates to its own proxy (a call to
 * another domain needs a local user's credentials) and the call crosses both `sipsec proxy`
 * processes over verified mutual TLS. Busy, CANCEL, Timer C, forking to two bindings, the call in
 * the other direction, and a call to a UA reachable only on its registration's TLS connection.
 *
 * The lab's servers are on 127.0.0.140-149 (test/support/trapezoid-lab.ts); the user agents have
 * their own: alice's SIPp on .150, bob's and dave's on .151, baresip (carol) on .152.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startBaresip } from '../support/baresip.js';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp, type SippRun } from '../support/sipp.js';
import { startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_USERS, type RunningProxy, type TrapezoidLab } from '../support/trapezoid-lab.js';

const SIPP = path.join(FIXTURES_DIR, 'sipp');
const ALICE_ADDRESS = '127.0.0.150';
const BOB_ADDRESS = '127.0.0.151';
const CAROL_ADDRESS = '127.0.0.152';
/**
 * Short enough that the Timer C test ends in seconds, long enough that the ringing of the other
 * tests never reaches it (each rings for a fraction of a second).
 */
const TIMER_C_MS = 4_000;

let lab: TrapezoidLab;
let proxyA: RunningProxy;
let proxyB: RunningProxy;

before(async () => {
  lab = await startTrapezoidLab({ extraConfig: [`timers: { timerCMs: ${TIMER_C_MS} }`] });
  proxyA = await startProxy(lab.configs.a);
  proxyB = await startProxy(lab.configs.b);
});

after(async () => {
  await proxyA?.stop();
  await proxyB?.stop();
  await lab?.stop();
});

/** Both proxies' recent output, for every failure message. */
function proxyLogs(): string {
  return `\nproxy A:\n${proxyA.output().slice(-4000)}\nproxy B:\n${proxyB.output().slice(-4000)}`;
}

function sippArgs(scenario: string, args: readonly string[]): string[] {
  return ['-sf', path.join(SIPP, scenario), '-m', '1', '-timeout', '30s', '-timeout_error', ...args];
}

function sipp(scenario: string, args: readonly string[]): Promise<SippRun> {
  return runSipp(sippArgs(scenario, args), 40_000).done;
}

/** A SIPp callee started before its caller, with its own media port (two callees share .151). */
function callee(scenario: string, address: string, port: number): { done: Promise<SippRun> } {
  return runSipp(sippArgs(scenario, ['-i', address, '-p', String(port), '-mp', String(port + 1000)]), 40_000);
}

function assertPlayed(run: SippRun, who: string): void {
  assert.equal(run.code, 0, `${who}:\n${run.output.slice(-3000)}${proxyLogs()}`);
}

/** Registers `user` of `side` from address:port with digest auth; resolves once the proxy logged the binding. */
async function register(side: 'a' | 'b', user: string, password: string, address: string, port: number): Promise<void> {
  const proxy = side === 'a' ? proxyA : proxyB;
  const domain = TRAP[side];
  const run = await sipp('uac-register.xml', [
    '-i', address, '-p', String(port), `${TRAP_ADDRESS[side]}:5060`,
    '-s', user, '-au', user, '-ap', password, '-auth_uri', domain, '-key', 'domain', domain,
  ]);
  assertPlayed(run, `${user}'s REGISTER from ${address}:${port}`);
  await proxy.waitFor((e) => /^registration-(added|refreshed)$/.test(String(e.event)) &&
    String(e.aor).startsWith(`${user}@`) && e.remote === `${address}:${port}`);
}

/** The options of a caller at `from` calling `user@to` through its own proxy, authenticating as `from`. */
function caller(from: { side: 'a' | 'b'; user: string; password: string; address: string; port: number }, user: string, to: 'a' | 'b', extra: readonly string[] = []): string[] {
  const proxy = `${TRAP_ADDRESS[from.side]}:5060`;
  return [
    '-i', from.address, '-p', String(from.port), '-mp', String(from.port + 1000), proxy, '-rsa', proxy,
    '-s', user, '-au', from.user, '-ap', from.password, '-auth_uri', `${user}@${TRAP[to]}`,
    '-key', 'from_user', from.user, '-key', 'from_domain', TRAP[from.side], '-key', 'to_domain', TRAP[to],
    ...extra,
  ];
}

const alice = (port: number): { side: 'a'; user: string; password: string; address: string; port: number } =>
  ({ side: 'a', user: 'alice', password: TRAP_USERS.a.alice, address: ALICE_ADDRESS, port });
const bob = (port: number): { side: 'b'; user: string; password: string; address: string; port: number } =>
  ({ side: 'b', user: 'bob', password: TRAP_USERS.b.bob, address: BOB_ADDRESS, port });

test('bob is busy: his 486 reaches alice across both proxies', async () => {
  await register('b', 'bob', TRAP_USERS.b.bob, BOB_ADDRESS, 5070);
  const busy = callee('uas-busy.xml', BOB_ADDRESS, 5070);
  const call = await sipp('uac-busy-auth.xml', caller(alice(5071), 'bob', 'b'));
  assertPlayed(call, 'alice\'s call (expects 486)');
  assertPlayed(await busy.done, 'bob\'s busy UAS');
});

test('alice cancels after 180: she gets 487, bob sees the CANCEL and ends the INVITE', async () => {
  await register('b', 'bob', TRAP_USERS.b.bob, BOB_ADDRESS, 5070);
  const ringing = callee('uas-no-answer.xml', BOB_ADDRESS, 5070);
  const call = await sipp('uac-cancel-auth.xml', caller(alice(5071), 'bob', 'b', ['-d', '300']));
  assertPlayed(call, 'alice\'s cancelled call (expects 200 for the CANCEL, then 487)');
  // uas-no-answer ends only after a CANCEL, its 487 and the ACK of that 487.
  assertPlayed(await ringing.done, 'bob\'s ringing UAS (expects the CANCEL)');
});

test('bob never answers: Timer C ends the call, alice gets 487 or 408, bob is cancelled', async () => {
  await register('b', 'bob', TRAP_USERS.b.bob, BOB_ADDRESS, 5070);
  const ringing = callee('uas-no-answer.xml', BOB_ADDRESS, 5070);
  const call = await sipp('uac-timer-c-auth.xml', caller(alice(5071), 'bob', 'b'));
  assertPlayed(call, 'alice\'s unanswered call (expects 487 or 408)');
  assertPlayed(await ringing.done, 'bob\'s ringing UAS (expects the CANCEL of Timer C)');
  const fired = [...proxyA.events(), ...proxyB.events()].filter((e) => e.event === 'proxy-timer-c');
  assert.ok(fired.length > 0, `no proxy-timer-c event${proxyLogs()}`);
});

test('dave registered twice: the INVITE forks to both, one answers, the other is cancelled, alice gets the 200', async () => {
  // dave, not bob: bob's binding of the tests above would be a third branch, with no UA behind it.
  await register('b', 'dave', TRAP_USERS.b.dave, BOB_ADDRESS, 5072);
  await register('b', 'dave', TRAP_USERS.b.dave, BOB_ADDRESS, 5073);
  const ringing = callee('uas-no-answer.xml', BOB_ADDRESS, 5072);
  const answering = callee('uas-call.xml', BOB_ADDRESS, 5073);
  const call = await sipp('uac-call-auth.xml', caller(alice(5071), 'dave', 'b', ['-d', '200']));
  assertPlayed(call, 'alice\'s call to dave (expects the 200 of one branch)');
  assertPlayed(await answering.done, 'dave\'s answering UAS');
  assertPlayed(await ringing.done, 'dave\'s ringing UAS (expects the CANCEL of the proxy)');
});

test('the other direction: bob at b.trap.test calls alice registered at a.trap.test; the call completes', async () => {
  await register('a', 'alice', TRAP_USERS.a.alice, ALICE_ADDRESS, 5080);
  const answering = callee('uas-call.xml', ALICE_ADDRESS, 5080);
  const call = await sipp('uac-call-auth.xml', caller(bob(5081), 'alice', 'a', ['-d', '200']));
  assertPlayed(call, 'bob\'s call to alice');
  assertPlayed(await answering.done, 'alice\'s answering UAS');
});

test('baresip registers carol over TLS to proxy a and takes bob\'s call on that connection', async () => {
  const carol = await startBaresip({
    aor: `carol@${TRAP.a}`, password: TRAP_USERS.a.carol, transport: 'tls',
    outbound: `sip:${TRAP_ADDRESS.a}:5061;transport=tls`, listen: `${CAROL_ADDRESS}:5060`, caPem: lab.certs.ca.pem, sipTrace: true,
  });
  const withLogs = (err: unknown): Error => new Error(`${err instanceof Error ? err.message : String(err)}${proxyLogs()}`);
  try {
    await carol.waitFor(/carol@a\.trap\.test: \{0\/TLS\/v4\} 200 OK/).catch((err: unknown) => { throw withLogs(err); });
    const binding = await proxyA.waitFor((e) => e.event === 'registration-added' && String(e.aor).startsWith('carol@'), 5_000)
      .catch((err: unknown) => { throw new Error(`${String(err)}\nbaresip:\n${carol.output().slice(-3000)}`); });
    assert.equal(binding.transport, 'tls', JSON.stringify(binding));
    const call = await sipp('uac-call-auth.xml', caller(bob(5082), 'carol', 'a', ['-d', '500']));
    assertPlayed({ ...call, output: `${call.output}\nbaresip:\n${carol.output().slice(-3000)}` }, 'bob\'s call to carol (baresip)');
    await carol.waitFor(/Call established: sip:bob@b\.trap\.test/).catch((err: unknown) => { throw withLogs(err); });
    // bob's BYE, its 200 from baresip, and the session's end (libre reports a BYE as ECONNRESET).
    await carol.waitFor(/BYE sip:carol[^]*?SIP\/2\.0 200 OK[^]*?sip:bob@b\.trap\.test: session closed/).catch((err: unknown) => { throw withLogs(err); });
    // The INVITE came over the connection baresip registered on (its trace names both ends).
    const invite = new RegExp(`TLS ${TRAP_ADDRESS.a.replace(/\./g, '\\.')}:5061 -> ${String(binding.remote).replace(/\./g, '\\.')}\r?\nINVITE sip:carol`);
    assert.match(carol.output(), invite, `the INVITE did not arrive on the registration's connection ${String(binding.remote)}\n${carol.output().slice(-3000)}`);
  } finally {
    await carol.stop();
  }
});

test('bob hangs up: his BYE reaches alice across both proxies, A sending it where her INVITE came from (the flow in its Record-Route)', async () => {
  await register('b', 'bob', TRAP_USERS.b.bob, BOB_ADDRESS, 5070);
  const hangingUp = callee('uas-call-bye.xml', BOB_ADDRESS, 5070);
  const call = await sipp('uac-call-auth-callee-bye.xml', caller(alice(5071), 'bob', 'b', ['-d', '200']));
  assertPlayed(call, 'alice\'s call, ended by bob (expects his BYE)');
  assertPlayed(await hangingUp.done, 'bob\'s UAS that hangs up (expects 200 for its BYE)');
});
