import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipRequest } from '../sip/message.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/transaction-layer.js';
import { TX_TIMERS, type TxTimers } from '../limits.js';
import { timerEReachesT2Ms } from '../transaction/tx-timers.js';
import { VirtualClock } from '../transaction/virtual-clock.js';
import { TransportError, type Destination, type TransportContext } from '../transport/transport-context.js';
import { FlowTokens } from './flow-token.js';
import { invite, OWN, reply } from './fixtures.test.support.js';
import { ResponseContext, type BranchTarget } from './response-context.js';

const CALLER: TransportContext = {
  transport: 'udp', local: { address: '192.0.2.10', port: 5060 }, remote: { address: '198.51.100.1', port: 5060 },
  connectionId: undefined, peer: undefined, receivedAtMs: 0,
};
const FIRST: Destination = { transport: 'udp', address: '203.0.113.1', port: 5060 };
const SECOND: Destination = { transport: 'udp', address: '203.0.113.2', port: 5060 };

interface Sent {
  readonly message: SipMessage;
  readonly destination: Destination;
}

/**
 * A response context over a real transaction layer whose sends are recorded (no sockets), with a
 * virtual clock for the layer and one for the core (Timer C, our 100), as ProxyCore wires them.
 */
function setup(method: string, destinations: readonly Destination[], refuse: ReadonlySet<string> = new Set(), timers: Partial<TxTimers> = {}) {
  const layerClock = new VirtualClock();
  const coreClock = new VirtualClock();
  const sent: Sent[] = [];
  const events: string[] = [];
  let serverTx: ServerTransaction | undefined;
  const layer = new TransactionLayer({
    clock: layerClock,
    timers,
    send: (message, destination) => {
      sent.push({ message, destination });
      return refuse.has(destination.address) ? Promise.reject(new TransportError('connection-refused', 'refused')) : Promise.resolve();
    },
    onRequest: (tx) => {
      serverTx = tx;
    },
  });
  const request = invite('sip:bob@b.test', [], method);
  layer.receive(request, CALLER);
  assert.ok(serverTx !== undefined);
  const tx = serverTx;
  const rc = new ResponseContext(
    { layer, own: OWN, clock: coreClock, timerCMs: 180_000, log: (_level, event) => events.push(event), flowTokens: new FlowTokens(), indexBranch: () => undefined },
    tx, request, CALLER, 'loophash', false,
  );
  tx.onTerminated = () => rc.dispose();
  const target: BranchTarget = {
    requestUri: undefined, pushRoutes: [], label: 'b.test',
    destinations: () => Promise.resolve({ kind: 'destinations', destinations }),
  };
  /** Both clocks forward to `ms` from the start, letting the branches' promises settle on the way. */
  const runTo = async (ms: number): Promise<void> => {
    await flush();
    while (layerClock.now() < ms) {
      const next = Math.min(ms, layerClock.now() + 100);
      layerClock.advanceTo(next);
      coreClock.advanceTo(next);
      await flush();
    }
  };
  const upstream = (): string[] => sent.filter((s) => s.message.kind === 'response').map((s) => String((s.message as { status: number }).status));
  const requestsTo = (d: Destination): SipRequest[] =>
    sent.filter((s) => s.message.kind === 'request' && s.destination.address === d.address).map((s) => s.message as SipRequest);
  return { layer, coreClock, tx, rc, target, events, runTo, upstream, requestsTo };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('RFC 4320 section 4.1: a non-INVITE without an answer gets our 100 when the caller\'s Timer E reaches T2, once; no 408 after Timer F', async () => {
  const s = setup('MESSAGE', [FIRST]);
  const tryingAt = timerEReachesT2Ms(s.layer.timers);
  s.rc.fork([s.target]);
  await s.runTo(tryingAt - 1);
  assert.equal(s.requestsTo(FIRST).length > 0, true);
  // The callee's 100 is not forwarded (section 16.7 step 5) and is no answer of ours.
  s.layer.receive(reply(s.requestsTo(FIRST)[0] as SipRequest, 100, [], null), { ...CALLER, remote: { address: FIRST.address, port: FIRST.port } });
  await s.runTo(tryingAt - 1);
  assert.deepEqual(s.upstream(), [], 'no 100 before Timer E reaches T2');
  await s.runTo(tryingAt);
  assert.deepEqual(s.upstream(), ['100']);
  assert.equal(s.tx.state, 'proceeding');
  await s.runTo(s.layer.timers.timerFMs + 100);
  assert.deepEqual(s.upstream(), ['100'], 'one 100, and no 408 (section 4.2)');
  assert.ok(s.events.includes('proxy-final-withheld'));
  await s.runTo(2 * s.layer.timers.timerFMs + s.layer.timers.timerJMs);
  assert.equal(s.tx.terminated, true);
  assert.equal(s.layer.size, 0);
  assert.equal(s.coreClock.pendingCount, 0);
});

test('RFC 4320 section 4.1: no 100 of ours once a final went upstream, and its timer is cancelled with the final', async () => {
  const s = setup('OPTIONS', [FIRST]);
  s.rc.fork([s.target]);
  await s.runTo(s.layer.timers.t1Ms);
  s.layer.receive(reply(s.requestsTo(FIRST)[0] as SipRequest, 200), { ...CALLER, remote: { address: FIRST.address, port: FIRST.port } });
  await s.runTo(s.layer.timers.t1Ms);
  assert.deepEqual(s.upstream(), ['200']);
  assert.equal(s.coreClock.pendingCount, 0, 'nothing of the context armed after its final');
  await s.runTo(timerEReachesT2Ms(s.layer.timers) + s.layer.timers.timerJMs);
  assert.deepEqual(s.upstream(), ['200']);
  assert.equal(s.layer.size, 0);
});

test('a non-INVITE answered before Timer E reaches T2 leaves no timer of the context', async () => {
  const s = setup('MESSAGE', []);
  s.rc.fork([{ ...s.target, destinations: () => Promise.resolve({ kind: 'none', word: 'no-destination', detail: 'nowhere' }) }]);
  await s.runTo(1);
  assert.deepEqual(s.upstream(), ['500']);
  assert.equal(s.coreClock.pendingCount, 0);
});

test('RFC 4320: a non-INVITE branch whose Timer F fired does not fail over to the next destination', async () => {
  const s = setup('MESSAGE', [FIRST, SECOND]);
  s.rc.fork([s.target]);
  await s.runTo(s.layer.timers.timerFMs + s.layer.timers.timerJMs + 1000);
  assert.ok(s.requestsTo(FIRST).length > 1);
  assert.equal(s.requestsTo(SECOND).length, 0, 'the caller has given up too: nobody to answer');
  assert.deepEqual(s.upstream(), ['100']);
  assert.ok(s.events.includes('proxy-final-withheld'));
});

test('a non-INVITE branch still fails over on a transport error (RFC 3263 section 4.3)', async () => {
  const s = setup('MESSAGE', [FIRST, SECOND], new Set([FIRST.address]));
  s.rc.fork([s.target]);
  await s.runTo(1);
  const second = s.requestsTo(SECOND);
  assert.equal(second.length, 1);
  s.layer.receive(reply(second[0] as SipRequest, 202), { ...CALLER, remote: { address: SECOND.address, port: SECOND.port } });
  await s.runTo(2);
  assert.deepEqual(s.upstream(), ['202']);
});

test('an INVITE branch whose Timer B fired still fails over to the next destination (RFC 3263 section 4.3)', async () => {
  const s = setup('INVITE', [FIRST, SECOND]);
  s.rc.fork([s.target]);
  await s.runTo(s.layer.timers.timerBMs + 100);
  const second = s.requestsTo(SECOND);
  assert.equal(second.length > 0, true);
  s.layer.receive(reply(second[0] as SipRequest, 486), { ...CALLER, remote: { address: SECOND.address, port: SECOND.port } });
  await s.runTo(s.layer.timers.timerBMs + 200);
  assert.deepEqual(s.upstream(), ['100', '486'], 'the layer\'s own 100 at once, then the final');
});

test('RFC 4320 section 4.1 over UDP: a proxy with short timers still sends its 100 no sooner than a default caller\'s Timer E reaches T2', async () => {
  const s = setup('MESSAGE', [FIRST], new Set(), { t1Ms: 100, t2Ms: 400 });
  const floor = timerEReachesT2Ms(TX_TIMERS);
  assert.ok(timerEReachesT2Ms(s.layer.timers) < floor);
  s.rc.fork([s.target]);
  await s.runTo(floor - 1);
  assert.deepEqual(s.upstream(), [], 'no 100 before the default caller\'s Timer E reaches T2');
  await s.runTo(floor);
  assert.deepEqual(s.upstream(), ['100']);
});

test('RFC 4320: after a non-INVITE branch\'s Timer F no later q-group is tried either', async () => {
  const s = setup('MESSAGE', [FIRST]);
  const second: BranchTarget = { requestUri: undefined, pushRoutes: [], label: 'second', destinations: () => Promise.resolve({ kind: 'destinations', destinations: [SECOND] }) };
  s.rc.forkInOrder([[s.target], [second]]);
  await s.runTo(s.layer.timers.timerFMs + 100);
  assert.ok(s.requestsTo(FIRST).length > 0);
  assert.equal(s.requestsTo(SECOND).length, 0, 'the caller has given up: nothing more is sent');
  assert.ok(s.events.includes('proxy-final-withheld'));
});
