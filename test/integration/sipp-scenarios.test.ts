/**
 * The SIPp scenarios of test/fixtures/sipp/ played against each other: caller and callee directly on
 * loopback, then through Kamailio as a stateful record-routing proxy, so that the fixtures the
 * proxy tests and the proxy benchmark use are known to be right before they judge a proxy.
 * Addresses 127.0.0.130 (callee), .131 (caller), .132 (proxy) and .133 (proxy that authenticates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp, type SippRun } from '../support/sipp.js';
import { freePort } from '../../src/lab/free-port.js';
import { startKamailioProxy } from '../../src/lab/kamailio.js';

const SCENARIOS = path.join(FIXTURES_DIR, 'sipp');
const UAS_ADDRESS = '127.0.0.130';
const UAC_ADDRESS = '127.0.0.131';
const PROXY_ADDRESS = '127.0.0.132';
const AUTH_PROXY_ADDRESS = '127.0.0.133';
const CALLS = 3;

interface Pair {
  readonly uas: string;
  readonly uac: string;
  readonly uasArgs?: readonly string[];
  readonly uacArgs?: readonly string[];
  /** `address:port` the caller sends to (SIPp -rsa) instead of the callee. */
  readonly outboundProxy?: string;
}

interface PairRun {
  readonly uac: SippRun;
  readonly uas: SippRun;
  /** Every message the caller sent and received (SIPp -trace_msg). */
  readonly uacMessages: string;
}

/** How many calls SIPp counted as successful, from its final screen. */
function successful(run: SippRun): number {
  const counts = [...run.output.matchAll(/Successful call\s+\|\s+\d+\s+\|\s+(\d+)/g)];
  return Number(counts[counts.length - 1]?.[1] ?? -1);
}

function callerKeys(uasPort: number): string[] {
  return ['-s', 'bob', '-key', 'from_user', 'alice', '-key', 'from_domain', 'a.test', '-key', 'to_domain', `${UAS_ADDRESS}:${uasPort}`];
}

/** A caller that answers its proxy's 407; the digest uri must be the Request-URI. */
function authenticatingCallerKeys(uasPort: number, password: string): string[] {
  return [...callerKeys(uasPort), '-au', 'alice', '-ap', password, '-auth_uri', `bob@${UAS_ADDRESS}:${uasPort}`];
}

/** Runs the callee, then CALLS calls of the caller against it; both must end. */
async function play(pair: Pair, uasPort: number): Promise<PairRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-sipp-'));
  const messages = path.join(dir, 'uac-messages.log');
  const uas = runSipp(['-sf', path.join(SCENARIOS, pair.uas), '-i', UAS_ADDRESS, '-p', String(uasPort), '-m', String(CALLS),
    '-timeout', '30', '-timeout_error', ...(pair.uasArgs ?? [])], 40_000);
  try {
    // The callee may bind a moment after the caller's first INVITE: SIPp retransmits it after 500 ms.
    const uac = runSipp(['-sf', path.join(SCENARIOS, pair.uac), '-i', UAC_ADDRESS, '-p', String(await freePort(UAC_ADDRESS)),
      `${UAS_ADDRESS}:${uasPort}`, ...(pair.outboundProxy !== undefined ? ['-rsa', pair.outboundProxy] : []),
      '-m', String(CALLS), '-r', '10', '-d', '200', '-timeout', '30', '-timeout_error',
      '-trace_msg', '-message_file', messages, ...(pair.uacArgs ?? [])], 40_000);
    const uacRun = await uac.done;
    const uasRun = await uas.done;
    return { uac: uacRun, uas: uasRun, uacMessages: fs.existsSync(messages) ? fs.readFileSync(messages, 'utf8') : '' };
  } finally {
    uas.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function assertAllCalls(run: PairRun): void {
  assert.equal(run.uac.code, 0, `caller:\n${run.uac.output.slice(-2500)}`);
  assert.equal(run.uas.code, 0, `callee:\n${run.uas.output.slice(-2500)}`);
  assert.equal(successful(run.uac), CALLS, run.uac.output.slice(-2500));
  assert.equal(successful(run.uas), CALLS, run.uas.output.slice(-2500));
}

/** The messages of one method the caller sent, as text blocks of the trace. */
function sent(run: PairRun, method: string): string[] {
  return run.uacMessages.split(/^-{20,}.*$/m).filter((block) => block.includes('message sent') && new RegExp(`^${method} `, 'm').test(block));
}

const callPairs = (uasPort: number): ReadonlyArray<{ name: string; pair: Pair }> => [
  { name: 'call (INVITE 100 180 200 ACK BYE 200)', pair: { uas: 'uas-call.xml', uac: 'uac-call.xml', uacArgs: callerKeys(uasPort) } },
  { name: '486 Busy Here, ACK in the INVITE transaction', pair: { uas: 'uas-busy.xml', uac: 'uac-busy.xml', uacArgs: callerKeys(uasPort) } },
  { name: 'CANCEL after 180, 487, ACK', pair: { uas: 'uas-no-answer.xml', uac: 'uac-cancel.xml', uacArgs: callerKeys(uasPort) } },
];

test('SIPp scenarios, caller to callee directly', async (t) => {
  const uasPort = await freePort(UAS_ADDRESS);
  for (const { name, pair } of callPairs(uasPort)) {
    await t.test(name, async () => {
      const run = await play(pair, uasPort);
      assertAllCalls(run);
      if (pair.uac === 'uac-call.xml') {
        // Without a proxy there is no Record-Route, so the in-dialog requests carry no Route.
        const byes = sent(run, 'BYE');
        assert.equal(byes.length, CALLS);
        for (const bye of byes) assert.doesNotMatch(bye, /^Route:/m);
      }
    });
  }

  await t.test('call with proxy authentication (INVITE 407 ACK, INVITE with Proxy-Authorization, then the call)', async () => {
    const run = await play({ uas: 'uas-call-auth.xml', uac: 'uac-call-auth.xml', uasArgs: ['-key', 'domain', 'a.test'], uacArgs: authenticatingCallerKeys(uasPort, 'wonderland') }, uasPort);
    assertAllCalls(run);
    const invites = sent(run, 'INVITE');
    assert.equal(invites.length, 2 * CALLS);
    const authorized = invites.filter((r) => /^Proxy-Authorization: Digest /m.test(r));
    assert.equal(authorized.length, CALLS);
    for (const r of authorized) assert.match(r, new RegExp(`uri="sip:bob@${UAS_ADDRESS.replace(/\./g, '\\.')}:${uasPort}"`));
  });

  const registrar = ['-key', 'domain', 'a.test', '-key', 'user', 'alice', '-key', 'password', 'wonderland'];
  const register = (password: string): Pair => ({
    uas: 'uas-registrar.xml', uac: 'uac-register.xml', uasArgs: registrar,
    uacArgs: ['-s', 'alice', '-key', 'domain', 'a.test', '-au', 'alice', '-ap', password, '-auth_uri', 'a.test'],
  });
  await t.test('REGISTER with digest MD5: challenged, then accepted', async () => {
    const run = await play(register('wonderland'), uasPort);
    assertAllCalls(run);
    const registers = sent(run, 'REGISTER');
    assert.equal(registers.length, 2 * CALLS);
    const authorized = registers.filter((r) => /^Authorization: Digest /m.test(r));
    assert.equal(authorized.length, CALLS);
    for (const r of authorized) {
      assert.match(r, /uri="sip:a\.test"/);
      assert.match(r, /qop=auth/);
    }
  });
  await t.test('REGISTER with a wrong password: the registrar refuses, the caller fails', async () => {
    const run = await play(register('not-the-password'), uasPort);
    assert.notEqual(run.uac.code, 0);
    assert.equal(successful(run.uac), 0);
  });
});

test('SIPp scenarios through Kamailio as a stateful record-routing proxy (UDP)', async (t) => {
  const uasPort = await freePort(UAS_ADDRESS);
  // Timer C short enough for a test: the proxy gives up on a ringing INVITE after 2 s.
  const proxy = await startKamailioProxy({ address: PROXY_ADDRESS, inviteTimeoutMs: 2_000 });
  const outboundProxy = `${PROXY_ADDRESS}:${proxy.port}`;
  try {
    for (const { name, pair } of callPairs(uasPort)) {
      await t.test(name, async () => {
        const run = await play({ ...pair, outboundProxy }, uasPort);
        assertAllCalls(run);
        if (pair.uac === 'uac-call.xml') {
          // The 200 carried the proxy's Record-Route; the caller routes ACK and BYE through it.
          for (const method of ['ACK', 'BYE']) {
            const requests = sent(run, method);
            assert.equal(requests.length, CALLS, method);
            for (const r of requests) assert.match(r, new RegExp(`^Route: <sip:${PROXY_ADDRESS.replace(/\./g, '\\.')}:${proxy.port};lr[;>]`, 'm'), r);
          }
        }
      });
    }
    await t.test('no answer: the proxy\'s Timer C cancels the ringing branch and the caller gets its final response', async () => {
      const run = await play({ uas: 'uas-no-answer.xml', uac: 'uac-timer-c.xml', uacArgs: callerKeys(uasPort), outboundProxy }, uasPort);
      assertAllCalls(run);
      // Nobody but the proxy sent a CANCEL: the caller never did.
      assert.equal(sent(run, 'CANCEL').length, 0);
    });
    assert.equal(proxy.exit(), undefined, proxy.output().slice(-2000));
  } finally {
    await proxy.stop();
  }
});

test('SIPp caller authenticating to Kamailio (auth module, digest MD5 with qop=auth), then the call through it', async (t) => {
  const uasPort = await freePort(UAS_ADDRESS);
  const proxy = await startKamailioProxy({ address: AUTH_PROXY_ADDRESS, proxyAuth: { realm: 'a.test', user: 'alice', password: 'wonderland' } });
  const outboundProxy = `${AUTH_PROXY_ADDRESS}:${proxy.port}`;
  try {
    await t.test('the right password: every call completes', async () => {
      const run = await play({ uas: 'uas-call.xml', uac: 'uac-call-auth.xml', uacArgs: authenticatingCallerKeys(uasPort, 'wonderland'), outboundProxy }, uasPort);
      assertAllCalls(run);
    });
    await t.test('a wrong password: challenged again, the caller fails', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-sipp-'));
      try {
        // No callee: the proxy must not let the INVITE reach it.
        const uac = runSipp(['-sf', path.join(SCENARIOS, 'uac-call-auth.xml'), '-i', UAC_ADDRESS, '-p', String(await freePort(UAC_ADDRESS)),
          `${UAS_ADDRESS}:${uasPort}`, '-rsa', outboundProxy, '-m', '1', '-timeout', '20', '-timeout_error',
          '-trace_msg', '-message_file', path.join(dir, 'uac-messages.log'), ...authenticatingCallerKeys(uasPort, 'not-the-password')], 30_000);
        const run = await uac.done;
        assert.notEqual(run.code, 0);
        assert.equal(successful(run), 0);
        const received = fs.readFileSync(path.join(dir, 'uac-messages.log'), 'utf8');
        // Challenged again (the 407 repeats while SIPp retransmits its INVITE), never rung.
        assert.ok([...received.matchAll(/^SIP\/2\.0 407 /gm)].length >= 2, received);
        assert.doesNotMatch(received, /^SIP\/2\.0 (180|200) /m);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    assert.equal(proxy.exit(), undefined, proxy.output().slice(-2000));
  } finally {
    await proxy.stop();
  }
});
