/**
 * ResponseInfo.hop: the TU learns the hop its request used (connection, verdict, TLS session) from
 * the layer itself, per transaction, whatever order the send's report and the response come in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transportFailureVerdict } from '../tls/verdict.js';
import { TransportError, type HopReport, type TransportContext } from '../transport/transport-context.js';
import { context, request, responseTo } from './fixtures.test.support.js';
import { TransactionLayer, type ResponseInfo, type SendReport } from './transaction-layer.js';
import { VirtualClock } from './virtual-clock.js';

const VERDICT = transportFailureVerdict({ code: 'tls-timeout', timeoutMs: 1 });
const TLS_DEST = { transport: 'tls' as const, address: '192.0.2.9', port: 5061, tlsTarget: { sipDomain: 'example.com' } };
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function layerWith(send: () => Promise<void | SendReport>): TransactionLayer {
  return new TransactionLayer({ clock: new VirtualClock(), send });
}

test('onSent reports the hop once the send completes; a response then carries its connection\'s word', async () => {
  const layer = layerWith(() => Promise.resolve({ connectionId: 'tls-1', peer: VERDICT, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } }));
  const sent: HopReport[] = [];
  const infos: ResponseInfo[] = [];
  const req = request({ method: 'OPTIONS', via: 'SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKhop1' });
  layer.sendRequest(req, TLS_DEST, { onSent: (hop) => sent.push(hop), onResponse: (_r, info) => infos.push(info) });
  await flush();
  assert.deepEqual(sent, [{ connectionId: 'tls-1', verdict: VERDICT, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } }]);
  const ctx: TransportContext = { ...context('tls'), connectionId: 'tls-1', peer: VERDICT, tls: { protocol: 'TLSv1.2', cipher: 'X' } };
  layer.receive(responseTo(req, 200, 'OK'), ctx);
  assert.deepEqual(infos[0]?.hop, { connectionId: 'tls-1', verdict: VERDICT, tls: { protocol: 'TLSv1.2', cipher: 'X' } });
  await layer.close({ force: true });
});

test('a response that overtakes the send\'s report still carries the hop, from its context', async () => {
  let complete: (report: SendReport) => void = () => undefined;
  const layer = layerWith(() => new Promise((resolve) => (complete = resolve)));
  const infos: ResponseInfo[] = [];
  const req = request({ method: 'OPTIONS', via: 'SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKhop2' });
  layer.sendRequest(req, TLS_DEST, { onResponse: (_r, info) => infos.push(info) });
  layer.receive(responseTo(req, 200, 'OK'), { ...context('tls'), connectionId: 'tls-2', peer: VERDICT, tls: { protocol: 'TLSv1.3', cipher: 'Y' } });
  assert.deepEqual(infos[0]?.hop, { connectionId: 'tls-2', verdict: VERDICT, tls: { protocol: 'TLSv1.3', cipher: 'Y' } });
  complete({ connectionId: 'tls-2' });
  await flush();
  await layer.close({ force: true });
});

test('a refused hop: the 503 carries the verdict that refused the server', async () => {
  const layer = layerWith(() => Promise.reject(new TransportError('peer-not-authenticated', 'name-mismatch', VERDICT)));
  const infos: ResponseInfo[] = [];
  layer.sendRequest(request({ method: 'OPTIONS', via: 'SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKhop3' }), TLS_DEST, { onResponse: (_r, info) => infos.push(info) });
  await flush();
  assert.equal(infos[0]?.origin, 'transport-error');
  assert.equal(infos[0]?.hop?.verdict, VERDICT);
  assert.equal(infos[0]?.hop?.connectionId, undefined);
  await layer.close({ force: true });
});
