/**
 * RFC 5923 connection reuse over real TLS sockets between two transport layers, P1 and P2 (two SIP
 * domains on 127.0.0.1): an inbound Via `alias` is honoured only from a client whose certificate
 * authenticated and covers the Via host, and an aliased connection carries our request back only
 * when it fits the send (the peer verifies for the target, we are presented as the send would
 * present us); an outbound connection carries a send to another domain only when its server
 * verifies for that domain too. Never by address alone.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import tls from 'node:tls';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, type TestCertificate } from '../lab/certificates.js';
import { parseMessage } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import { TrustStore } from '../tls/trust-store.js';
import { receiver, until } from './fixtures.test.support.js';
import { TransportError, type ClientCertificate, type Destination, type SecurityRequirement } from './transport-context.js';
import { TransportLayer, type TransportLayerOptions } from './transport-layer.js';

const ca = issueCertificate({ cn: 'Connection Reuse Test CA', ca: true });
const domainCert = (domain: string, extra: readonly string[] = []): TestCertificate => issueCertificate({
  cn: domain, issuer: ca, san: { dns: [domain, ...extra], uri: [`sip:${domain}`, ...extra.map((d) => `sip:${d}`)] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
});
const p1 = domainCert('p1.example');
const p2 = domainCert('p2.example');
/** A provider's certificate that speaks for two domains. */
const hosting = domainCert('h1.example', ['h2.example']);
const other = domainCert('p3.example');
const trustStore = TrustStore.fromPem(ca.pem);
const ours = (c: TestCertificate): ClientCertificate => ({ cert: c.pem, key: c.keyPem });

type Layer = { layer: TransportLayer; port: number; rx: ReturnType<typeof receiver> };

async function peer(cert: TestCertificate, domains: readonly string[], extra: Omit<Partial<TransportLayerOptions>, 'onMessage'> = {}): Promise<Layer> {
  const rx = receiver();
  const layer = await TransportLayer.start({
    listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains, cert: cert.pem, key: cert.keyPem }] }],
    trustStore, clientCertificate: ours(cert), connectionReuse: true, ...rx, ...extra,
  });
  return { layer, port: layer.listening()[0]?.port ?? 0, rx };
}

let n = 0;
function request(via: string): ReturnType<typeof parseMessage> {
  n++;
  return parseMessage(Buffer.from(
    `OPTIONS sip:x@p2.example SIP/2.0\r\nVia: ${via};branch=z9hG4bKreuse${n}\r\nFrom: <sip:a@p1.example>;tag=${n}\r\nTo: <sip:x@p2.example>\r\n` +
    `Call-ID: reuse-${n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  ));
}

/** A send from P2 back to P1's listener, for `sipDomain`, presenting `certificate`. */
function toP1(port: number, sipDomain = 'p1.example', security: SecurityRequirement = { clientCertificate: ours(p2) }): Destination {
  return { transport: 'tls', address: '127.0.0.1', port, tlsTarget: { sipDomain }, security };
}

// A fresh pair for each test: no connection of one test is a candidate in the next.
let P1: Layer;
let P2: Layer;
beforeEach(async () => {
  P1 = await peer(p1, ['p1.example']);
  P2 = await peer(p2, ['p2.example']);
});
afterEach(async () => {
  await P1.layer.close();
  await P2.layer.close();
});

/** P1 opens a connection to P2 and sends one request with `via`; resolves with P2's connection id for it. */
async function offer(via: string, from: Layer = P1, security: SecurityRequirement = { clientCertificate: ours(p1) }): Promise<string> {
  const before = P2.rx.messages.length;
  await from.layer.send(request(via), { transport: 'tls', address: '127.0.0.1', port: P2.port, tlsTarget: { sipDomain: 'p2.example' }, security });
  await P2.rx.waitFor(before + 1);
  const received = P2.rx.messages[P2.rx.messages.length - 1];
  assert.ok(received?.context.connectionId !== undefined);
  return received.context.connectionId;
}

function accepted(layer: Layer): number {
  return layer.rx.logs.filter((l) => l.event === 'tls-accepted').length;
}

test('an alias from a mutually authenticated peer whose certificate covers the Via host: our request back goes over its connection', async () => {
  const inbound = await offer(`SIP/2.0/TLS p1.example:${P1.port};alias`);
  const added = P2.rx.logs.find((l) => l.event === 'alias-added' && l.connection === inbound);
  assert.ok(added, JSON.stringify(P2.rx.logs));
  assert.match(added.detail ?? '', /for p1\.example:\d+; Via: SIP\/2\.0\/TLS p1\.example:\d+;alias;branch=\S+; certificate identities p1\.example/);
  const acceptedBefore = accepted(P1);
  const messagesBefore = P1.rx.messages.length;
  const sent = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port));
  assert.equal(sent.connectionId, inbound, 'the request back did not go over the aliased connection');
  // The hop's verdict is P1's certificate verified as the server of p1.example, as a new connection's would be.
  assert.equal(sent.peer?.authenticated, true);
  assert.equal(sent.peer?.matchedIdentity, 'p1.example');
  await P1.rx.waitFor(messagesBefore + 1);
  // P1 got it on the connection it opened: its listener accepted nothing.
  assert.equal(P1.rx.messages.at(-1)?.context.transport, 'tls');
  assert.equal(accepted(P1), acceptedBefore);
  assert.ok(P2.rx.logs.some((l) => l.event === 'connection-reused' && l.connection === inbound));
});

test('the alias carries a send only when it fits: another domain, or another certificate of ours, gets its own connection', async () => {
  const inbound = await offer(`SIP/2.0/TLS p1.example:${P1.port};alias`);
  // A domain the peer's certificate does not cover: verified against P1's listener, which fails.
  await assert.rejects(P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port, 'p3.example')), (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated');
  // We would present another certificate than the one the peer saw on the alias.
  const withOther = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port, 'p1.example', { clientCertificate: ours(other) }));
  assert.notEqual(withOther.connectionId, inbound);
  // A send that presents no certificate never takes an alias: an alias is mutual TLS.
  const withNone = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port, 'p1.example', { clientCertificate: 'none' }));
  assert.notEqual(withNone.connectionId, inbound);
});

test('without alias in the Via, our request back opens its own connection', async () => {
  const acceptedBefore = accepted(P1);
  const inbound = await offer(`SIP/2.0/TLS p1.example:${P1.port}`);
  assert.ok(!P2.rx.logs.some((l) => /^alias-/.test(l.event)), JSON.stringify(P2.rx.logs));
  const sent = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port));
  assert.notEqual(sent.connectionId, inbound);
  await until(() => accepted(P1) === acceptedBefore + 1);
});

test('a client without a certificate offering an alias: alias-refused, logged with the Via, and the connection never carries our requests', async () => {
  const raw = tls.connect({ host: '127.0.0.1', port: P2.port, rejectUnauthorized: false, servername: 'p2.example' });
  raw.on('error', () => undefined);
  const got: Buffer[] = [];
  raw.on('data', (chunk: Buffer) => got.push(chunk));
  await new Promise<void>((resolve) => raw.once('secureConnect', () => resolve()));
  try {
    const before = P2.rx.messages.length;
    const req = request(`SIP/2.0/TLS p1.example:${P1.port};alias`);
    raw.write(serializeMessage(req));
    await P2.rx.waitFor(before + 1);
    const inbound = P2.rx.messages.at(-1)?.context.connectionId;
    const refused = P2.rx.logs.find((l) => l.event === 'alias-refused' && l.connection === inbound);
    assert.ok(refused, JSON.stringify(P2.rx.logs));
    assert.equal(refused.level, 'warn');
    assert.equal(refused.reason, 'no-client-certificate');
    assert.match(refused.detail ?? '', /Via: SIP\/2\.0\/TLS p1\.example:\d+;alias;branch=\S+; certificate identities -/);
    const sent = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port));
    assert.notEqual(sent.connectionId, inbound);
    // Nothing but nothing reached the raw client (no response was sent either: the test's TU is silent).
    assert.equal(Buffer.concat(got).length, 0);
  } finally {
    raw.destroy();
  }
});

test('an authenticated client whose certificate does not cover the Via host: alias-refused (via-sent-by-mismatch)', async () => {
  const P3 = await peer(other, ['p3.example']);
  try {
    const inbound = await offer(`SIP/2.0/TLS p1.example:${P1.port};alias`, P3, { clientCertificate: ours(other) });
    const refused = P2.rx.logs.find((l) => l.event === 'alias-refused' && l.connection === inbound);
    assert.equal(refused?.reason, 'via-sent-by-mismatch', JSON.stringify(P2.rx.logs));
    assert.match(refused?.detail ?? '', /does not cover the Via sent-by host p1\.example.*certificate identities p3\.example/);
    // P1's address and port, P1's domain: still not P3's connection.
    const sent = await P2.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port));
    assert.notEqual(sent.connectionId, inbound);
    // An address as sent-by is never covered.
    const byAddress = await offer(`SIP/2.0/TLS 127.0.0.1:${P1.port};alias`, P3, { clientCertificate: ours(other), tlsPolicy: { maxChainDepth: 6 } });
    assert.match(P2.rx.logs.find((l) => l.event === 'alias-refused' && l.connection === byAddress)?.detail ?? '', /an address/);
  } finally {
    await P3.layer.close();
  }
});

test('connectionReuse off: an alias is neither honoured nor logged, and our request back opens its own connection', async () => {
  const Q = await peer(p2, ['p2.example'], { connectionReuse: false });
  try {
    const before = Q.rx.messages.length;
    await P1.layer.send(request(`SIP/2.0/TLS p1.example:${P1.port};alias`), { transport: 'tls', address: '127.0.0.1', port: Q.port, tlsTarget: { sipDomain: 'p2.example' }, security: { clientCertificate: ours(p1) } });
    await Q.rx.waitFor(before + 1);
    const inbound = Q.rx.messages.at(-1)?.context.connectionId;
    assert.ok(!Q.rx.logs.some((l) => /^alias-/.test(l.event)), JSON.stringify(Q.rx.logs));
    const sent = await Q.layer.send(request('SIP/2.0/TLS p2.example'), toP1(P1.port));
    assert.notEqual(sent.connectionId, inbound);
  } finally {
    await Q.layer.close();
  }
});

test('an outbound connection carries a send to another domain only when its server verifies for that domain too', async () => {
  const H = await peer(hosting, ['h1.example', 'h2.example']);
  try {
    const to = (sipDomain: string): Destination => ({ transport: 'tls', address: '127.0.0.1', port: H.port, tlsTarget: { sipDomain }, security: { clientCertificate: ours(p2) } });
    const first = await P2.layer.send(request('SIP/2.0/TLS p2.example'), to('h1.example'));
    const second = await P2.layer.send(request('SIP/2.0/TLS p2.example'), to('h2.example'));
    assert.equal(second.connectionId, first.connectionId, 'the certificate covers h2.example: the connection is reused');
    assert.equal(accepted(H), 1);
    // Not covered: a new connection is opened and its verification fails, the open one is not used.
    await assert.rejects(P2.layer.send(request('SIP/2.0/TLS p2.example'), to('h3.example')), (err: unknown) => err instanceof TransportError && err.reason === 'peer-not-authenticated');
    // H saw a second connection (which P2 closed after verifying it: H may log the hang-up instead).
    await until(() => H.rx.logs.filter((l) => l.event === 'tls-accepted' || l.event === 'tls-handshake-failed').length === 2);
  } finally {
    await H.layer.close();
  }
});
