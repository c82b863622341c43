/**
 * An element's graceful close over real TCP on loopback: closeLayers lets a running transaction
 * finish while new connections and new requests are refused, and closes everything at
 * gracefulCloseMs when the transaction does not finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportLimits } from '../../src/limits.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { buildResponse } from '../../src/transaction/local-response.js';
import { TransactionLayer, type ResponseInfo, type ServerTransaction } from '../../src/transaction/transaction-layer.js';
import { TransportLayer, type ListenerSpec } from '../../src/transport/transport-layer.js';
import type { TransportLogEvent } from '../../src/transport/transport-log.js';
import { buildRequest } from '../../src/ua/build-request.js';
import { closeLayers } from '../../src/ua/close-layers.js';
import { connectError, until } from '../../src/transport/fixtures.test.support.js';

interface Element {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly closed: Array<{ connectionId: string; reason: string }>;
  readonly logs: TransportLogEvent[];
  /** Server transactions handed to the TU, unanswered. */
  readonly held: ServerTransaction[];
}

/** Transport and transaction layers wired as an element wires them (src/ua/responder.ts). */
async function element(listeners: readonly ListenerSpec[], limits: Partial<TransportLimits> = {}): Promise<Element> {
  const layers: { transactions?: TransactionLayer } = {};
  const closed: Element['closed'] = [];
  const logs: TransportLogEvent[] = [];
  const held: ServerTransaction[] = [];
  const transport = await TransportLayer.start({
    listeners,
    limits,
    onMessage: (message, context) => layers.transactions?.receive(message, context),
    onConnectionClosed: (connectionId, reason) => {
      closed.push({ connectionId, reason });
      layers.transactions?.connectionLost(connectionId, reason);
    },
    log: (e) => logs.push(e),
  });
  const transactions = new TransactionLayer({
    send: async (message, destination) => ({ connectionId: (await transport.send(message, destination)).connectionId }),
    onRequest: (tx) => held.push(tx),
    onAck: () => undefined,
  });
  layers.transactions = transactions;
  return { transport, transactions, closed, logs, held };
}

function request(method: string): SipRequest {
  return buildRequest({ method, uri: parseSipUri('sip:bob@127.0.0.1'), from: 'sip:alice@127.0.0.1', via: { transport: 'tcp', host: '127.0.0.1' } });
}

type Seen = Array<{ status: number; origin: ResponseInfo['origin']; retryAfter: string | undefined }>;

function collect(seen: Seen): { onResponse(response: SipResponse, info: ResponseInfo): void } {
  return { onResponse: (response, info) => seen.push({ status: response.status, origin: info.origin, retryAfter: response.header('retry-after') }) };
}

/** A TCP element holding an INVITE from a client element: the server's TU has not answered yet. */
async function inviteInProgress(limits: Partial<TransportLimits> = {}): Promise<{ server: Element; client: Element; port: number; invite: Seen }> {
  const server = await element([{ transport: 'tcp', address: '127.0.0.1', port: 0 }], limits);
  const client = await element([]);
  const port = server.transport.listening()[0]?.port ?? 0;
  const invite: Seen = [];
  client.transactions.sendRequest(request('INVITE'), { transport: 'tcp', address: '127.0.0.1', port }, collect(invite));
  await until(() => server.held.length === 1 && invite.length === 1);
  return { server, client, port, invite };
}

test('graceful close over TCP: the INVITE in progress completes, a new connection and a new request are refused', async () => {
  const { server, client, port, invite } = await inviteInProgress();
  try {
    const closing = closeLayers(server.transactions, server.transport);
    assert.equal(await connectError(port), 'ECONNREFUSED');
    // A new request on the open connection gets 503 with Retry-After (RFC 3261 section 21.5.4).
    const options: Seen = [];
    client.transactions.sendRequest(request('OPTIONS'), { transport: 'tcp', address: '127.0.0.1', port }, collect(options));
    await until(() => options.length === 1);
    assert.deepEqual(options, [{ status: 503, origin: 'network', retryAfter: '5' }]);
    assert.equal(server.held.length, 1);
    // The INVITE server transaction finishes: 486, then the client's ACK over the same connection.
    const [tx] = server.held;
    assert.ok(tx);
    tx.respond(buildResponse(tx.request, 486, 'Busy Here', { toTag: 'busy' }));
    await closing;
    assert.deepEqual(invite.map((r) => `${r.status} ${r.origin}`), ['100 network', '486 network']);
    assert.equal(tx.state, 'terminated');
    assert.equal(server.transactions.size, 0);
    assert.equal(server.transport.connectionCount, 0);
    assert.deepEqual(server.closed.map((c) => c.reason), ['local-close']);
    assert.ok(!server.logs.some((l) => l.event === 'graceful-close-deadline'));
  } finally {
    await closeLayers(client.transactions, client.transport, { force: true });
    await closeLayers(server.transactions, server.transport, { force: true });
  }
});

test('graceful close over TCP: at gracefulCloseMs the connection is closed and the waiting client gets its 503 at once', async () => {
  const { server, client, port, invite } = await inviteInProgress({ gracefulCloseMs: 100 });
  try {
    // The TU never answers.
    await closeLayers(server.transactions, server.transport);
    assert.deepEqual(server.closed.map((c) => c.reason), ['graceful-close-deadline']);
    assert.ok(server.logs.some((l) => l.event === 'graceful-close-deadline' && l.level === 'warn'));
    assert.equal(server.transactions.size, 0);
    assert.equal(server.transactions.pendingTimers, 0);
    assert.equal(await connectError(port), 'ECONNREFUSED');
    await until(() => invite.length === 2);
    assert.deepEqual(invite.map((r) => `${r.status} ${r.origin}`), ['100 network', '503 transport-error']);
  } finally {
    await closeLayers(client.transactions, client.transport, { force: true });
    await closeLayers(server.transactions, server.transport, { force: true });
  }
});
