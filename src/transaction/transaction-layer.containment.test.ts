/**
 * A TU callback that throws is contained at the layer boundary: reported through onCallbackError,
 * a server transaction without a final response answered 500, nothing left in the table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipResponse } from '../sip/message.js';
import { context, request, responseTo, UDP_DEST } from './fixtures.test.support.js';
import { TransactionLayer, type CallbackErrorReport, type TransactionLayerOptions } from './transaction-layer.js';
import { VirtualClock } from './virtual-clock.js';

function setup(options: Partial<TransactionLayerOptions>) {
  const clock = new VirtualClock();
  const sent: SipMessage[] = [];
  const reports: CallbackErrorReport[] = [];
  const layer = new TransactionLayer({
    clock,
    send: (message) => {
      sent.push(message);
      return Promise.resolve();
    },
    onCallbackError: (report) => reports.push(report),
    ...options,
  });
  return { clock, sent, reports, layer };
}

const statuses = (sent: SipMessage[]): number[] => sent.filter((m): m is SipResponse => m.kind === 'response').map((m) => m.status);
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('onRequest throwing: reported with the request identity, answered 500, the transaction ends by its timers and close() resolves', async () => {
  const { clock, sent, reports, layer } = setup({
    onRequest: () => {
      throw new Error('TU bug');
    },
  });
  assert.doesNotThrow(() => layer.receive(request({ method: 'OPTIONS', callId: 'c1@x' }), context('udp')));
  assert.deepEqual(statuses(sent), [500]);
  assert.equal(reports.length, 1);
  assert.equal(reports[0]?.callback, 'onRequest');
  assert.equal(reports[0]?.method, 'OPTIONS');
  assert.equal(reports[0]?.callId, 'c1@x');
  assert.equal(reports[0]?.detail, 'TU bug');
  assert.equal(layer.size, 1, 'the non-INVITE server transaction waits in Completed for Timer J');
  clock.advance(layer.timers.timerJMs);
  assert.equal(layer.size, 0);
  await layer.close();
});

test('onRequest throwing for an INVITE: 100 then 500; the ACK ends it', () => {
  const { clock, sent, reports, layer } = setup({
    onRequest: () => {
      throw new TypeError('undefined is not a function');
    },
  });
  layer.receive(request({ method: 'INVITE' }), context('udp'));
  assert.deepEqual(statuses(sent), [100, 500]);
  assert.equal(reports.length, 1);
  const toTag = (sent[1] as SipResponse).toTag();
  layer.receive(request({ method: 'ACK', cseqMethod: 'ACK', toTag }), context('udp'));
  clock.advance(layer.timers.timerIMs);
  assert.equal(layer.size, 0);
});

test('onRequest that answered with a final response and then threw gets no second response', () => {
  const { sent, reports, layer } = setup({
    onRequest: (tx, req) => {
      tx.respond(responseTo(req, 404, 'Not Found'));
      throw new Error('late bug');
    },
  });
  layer.receive(request({ method: 'OPTIONS', via: 'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKt' }), context('tcp'));
  assert.deepEqual(statuses(sent), [404]);
  assert.equal(reports.length, 1);
  assert.equal(layer.size, 0);
});

test('client handlers and the other callbacks that throw are reported, never thrown into the transport', async () => {
  const { clock, reports, layer } = setup({
    onAck: () => {
      throw new Error('ack bug');
    },
    onStrayResponse: () => {
      throw new Error('stray bug');
    },
  });
  const req = request({ method: 'OPTIONS', branch: 'z9hG4bKclient1' });
  layer.sendRequest(req, UDP_DEST, {
    onResponse: () => {
      throw new Error('response bug');
    },
    onTerminated: () => {
      throw new Error('terminated bug');
    },
  });
  await flush();
  assert.doesNotThrow(() => layer.receive(responseTo(req, 200, 'OK'), context('udp')));
  clock.advance(layer.timers.timerKMs);
  assert.doesNotThrow(() => layer.receive(request({ method: 'ACK', cseqMethod: 'ACK', branch: 'z9hG4bKstray-ack' }), context('udp')));
  assert.doesNotThrow(() => layer.receive(responseTo(request({ method: 'OPTIONS', branch: 'z9hG4bKnobody' }), 200, 'OK'), context('udp')));
  assert.deepEqual(reports.map((r) => r.callback), ['onResponse', 'onTerminated', 'onAck', 'onStrayResponse']);
  assert.equal(layer.size, 0);
  await layer.close();
});

test('a throwing onCallbackError does not undo the containment', () => {
  const { sent, layer } = setup({
    onRequest: () => {
      throw new Error('TU bug');
    },
    onCallbackError: () => {
      throw new Error('logger bug');
    },
  });
  assert.doesNotThrow(() => layer.receive(request({ method: 'OPTIONS' }), context('udp')));
  assert.deepEqual(statuses(sent), [500]);
});
