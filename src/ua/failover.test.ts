/**
 * sendWithFailover over a TransactionLayer whose `send` is a fake that plays each destination's
 * part (refuse, refuse the certificate, answer, stay silent), on virtual time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipRequest } from '../sip/message.js';
import { branchOf, type Via } from '../sip/via.js';
import { transportFailureVerdict } from '../tls/verdict.js';
import { context, request, responseTo } from '../transaction/fixtures.test.support.js';
import { TransactionLayer, type SendReport } from '../transaction/transaction-layer.js';
import { VirtualClock } from '../transaction/virtual-clock.js';
import { TransportError, type Destination } from '../transport/transport-context.js';
import { failsOver, sendWithFailover, type FailoverOptions, type FailoverResult } from './failover.js';

const VERDICT = transportFailureVerdict({ code: 'tls-timeout', timeoutMs: 1 });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What the destination at an address does with a request: `refuse`, `bad-cert`, `silent`, or a list of statuses it answers. */
type Part = 'refuse' | 'bad-cert' | 'silent' | number[];

function world(parts: Record<string, Part>): { layer: TransactionLayer; clock: VirtualClock; sent: string[] } {
  const clock = new VirtualClock();
  const sent: string[] = [];
  const layer: TransactionLayer = new TransactionLayer({
    clock,
    send: (message: SipMessage, destination: Destination): Promise<void | SendReport> => {
      const part = parts[destination.address] ?? 'refuse';
      if (message.kind === 'request') sent.push(`${destination.address} ${branchOf(message.topVia() as Via) ?? ''}`);
      if (part === 'refuse') return Promise.reject(new TransportError('connection-refused', `nothing listens on ${destination.address}`));
      if (part === 'bad-cert') return Promise.reject(new TransportError('peer-not-authenticated', 'name-mismatch', VERDICT));
      if (part !== 'silent' && message.kind === 'request') {
        setImmediate(() => { for (const status of part) layer.receive(responseTo(message, status, status === 503 ? 'Service Unavailable' : 'Reason'), { ...context(destination.transport, destination), connectionId: `conn-${destination.address}` }); });
      }
      return Promise.resolve({ connectionId: `conn-${destination.address}`, peer: VERDICT });
    },
  });
  return { layer, clock, sent };
}

const dest = (address: string): Destination => ({ transport: 'tcp', address, port: 5060 });

function options(layer: TransactionLayer, addresses: string[], extra: Partial<FailoverOptions> = {}): FailoverOptions {
  return {
    transactions: layer,
    destinations: addresses.map(dest),
    request: (d, i): SipRequest => request({ method: 'OPTIONS', via: `SIP/2.0/${d.transport.toUpperCase()} 192.0.2.1;branch=z9hG4bKfailover${i}` }),
    ...extra,
  };
}

/** Lets the attempts run, moving virtual time on by `stepMs` between turns, until the result is in. */
async function settle(clock: VirtualClock, pending: Promise<FailoverResult>, stepMs = 0): Promise<FailoverResult> {
  let done: FailoverResult | undefined;
  void pending.then((r) => (done = r));
  for (let turn = 0; turn < 50 && done === undefined; turn++) {
    await flush();
    if (stepMs > 0) clock.advance(stepMs);
  }
  assert.ok(done, 'no final answer');
  return done;
}

test('a refused connection and a refused certificate fail over; each attempt is a new transaction and reports its hop', async () => {
  const { layer, clock, sent } = world({ '192.0.2.1': 'refuse', '192.0.2.2': 'bad-cert', '192.0.2.3': [200] });
  const reported: string[] = [];
  const result = await settle(clock, sendWithFailover(options(layer, ['192.0.2.1', '192.0.2.2', '192.0.2.3'], {
    onAttempt: (a) => reported.push(`${a.destination.address} ${a.response.status} ${a.info.origin} ${a.failedOver}`),
  })));
  assert.equal(result.response.status, 200);
  assert.equal(result.info.origin, 'network');
  assert.deepEqual(reported, ['192.0.2.1 503 transport-error true', '192.0.2.2 503 transport-error true', '192.0.2.3 200 network false']);
  assert.deepEqual(sent, ['192.0.2.1 z9hG4bKfailover0', '192.0.2.2 z9hG4bKfailover1', '192.0.2.3 z9hG4bKfailover2']);
  assert.equal(result.attempts[1]?.info.failure?.reason, 'peer-not-authenticated');
  assert.equal(result.attempts[1]?.info.hop?.verdict, VERDICT);
  assert.equal(result.attempts[2]?.info.hop?.connectionId, 'conn-192.0.2.3');
  await layer.close({ force: true });
});

test('a 503 from the server fails over; any other final answer is the answer, whatever destinations remain', async () => {
  const busy = world({ '192.0.2.1': [503], '192.0.2.2': [486] });
  const first = await settle(busy.clock, sendWithFailover(options(busy.layer, ['192.0.2.1', '192.0.2.2'])));
  assert.deepEqual(first.attempts.map((a) => a.response.status), [503, 486]);
  assert.equal(first.response.status, 486);

  const missing = world({ '192.0.2.1': [404], '192.0.2.2': [200] });
  const second = await settle(missing.clock, sendWithFailover(options(missing.layer, ['192.0.2.1', '192.0.2.2'])));
  assert.equal(second.response.status, 404);
  assert.equal(second.attempts.length, 1);
  assert.deepEqual(missing.sent, ['192.0.2.1 z9hG4bKfailover0']);
  await busy.layer.close({ force: true });
  await missing.layer.close({ force: true });
});

test('a timeout fails over, also after a 100; after another provisional it is the answer, and provisionals pass through', async () => {
  const silent = world({ '192.0.2.1': 'silent', '192.0.2.2': [100], '192.0.2.3': [200] });
  const provisional: string[] = [];
  const result = await settle(silent.clock, sendWithFailover(options(silent.layer, ['192.0.2.1', '192.0.2.2', '192.0.2.3'], {
    onProvisional: (r, _info, at) => provisional.push(`${at.index} ${r.status}`),
  })), 4000);
  assert.deepEqual(result.attempts.map((a) => `${a.response.status} ${a.info.origin}`), ['408 timeout', '408 timeout', '200 network']);
  assert.deepEqual(provisional, ['1 100']);

  const ringing = world({ '192.0.2.1': [180], '192.0.2.2': [200] });
  const handled = await settle(ringing.clock, sendWithFailover(options(ringing.layer, ['192.0.2.1', '192.0.2.2'])), 4000);
  assert.equal(handled.response.status, 408);
  assert.equal(handled.attempts.length, 1);
  await silent.layer.close({ force: true });
  await ringing.layer.close({ force: true });
});

test('when the last destination fails, its locally made answer names the last failure in Warning 399 and Reason', async () => {
  const refused = world({ '192.0.2.1': 'bad-cert', '192.0.2.2': 'refuse' });
  const result = await settle(refused.clock, sendWithFailover(options(refused.layer, ['192.0.2.1', '192.0.2.2'])));
  assert.equal(result.response.status, 503);
  assert.equal(result.info.origin, 'transport-error');
  assert.match(result.response.header('warning') ?? '', /^399 192\.0\.2\.1 "connection-refused: nothing listens on 192\.0\.2\.2"$/);
  assert.equal(result.response.header('reason'), 'SIP;cause=503;text="connection-refused"');

  const silent = world({ '192.0.2.1': 'refuse', '192.0.2.2': 'silent' });
  const timedOut = await settle(silent.clock, sendWithFailover(options(silent.layer, ['192.0.2.1', '192.0.2.2'])), 4000);
  assert.equal(timedOut.response.status, 408);
  assert.equal(timedOut.response.header('reason'), 'SIP;cause=408;text="timerF"');
  assert.equal(timedOut.response.header('warning'), '399 192.0.2.1 "timeout: no final response from tcp 192.0.2.2:5060"');
  await refused.layer.close({ force: true });
  await silent.layer.close({ force: true });
});

test('no destination is an error, not a silent wait', async () => {
  const { layer } = world({});
  await assert.rejects(sendWithFailover(options(layer, [])), RangeError);
  await layer.close({ force: true });
});

test('the failover rule', () => {
  assert.equal(failsOver({ status: 503, origin: 'transport-error' }), true);
  assert.equal(failsOver({ status: 503, origin: 'network' }), true);
  assert.equal(failsOver({ status: 500, origin: 'network' }), false);
  assert.equal(failsOver({ status: 408, origin: 'network' }), false);
  assert.equal(failsOver({ status: 408, origin: 'timeout' }), true);
  assert.equal(failsOver({ status: 408, origin: 'timeout' }, true), false);
  assert.equal(failsOver({ status: 503, origin: 'closed' }), false);
});
