/**
 * draft-gurbani (seed 000) Appendix A, A.1.1 to A.3, against real TLS servers on loopback with
 * certificates made by the test: connectAndVerify handshakes, takes the presented chain and gives
 * the verdict; a failed hop must come back closed (socket null), a passing one open.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { connectAndVerify, type VerifiedConnection } from '../../src/transport/tls-connect.js';
import { SecureContextCache } from '../../src/transport/secure-context-cache.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import type { TlsPolicy } from '../../src/tls/policy.js';
import { issueCertificate, issueHierarchy, EKU_SERVER_AUTH, type TestCertificate } from '../../src/lab/certificates.js';
import { startTlsServer, type RunningTlsServer } from '../support/tls-servers.js';

const DOMAIN = 'example.net';
const DAY = 86_400_000;
const servers: RunningTlsServer[] = [];
const contexts = new SecureContextCache();
const trusted = issueHierarchy('Trusted');
const store = TrustStore.fromPem(trusted.root.pem);

async function serve(chain: TestCertificate[]): Promise<RunningTlsServer> {
  const server = await startTlsServer({ chain });
  servers.push(server);
  return server;
}

async function connectTo(server: RunningTlsServer, policy: Partial<TlsPolicy> = {}): Promise<VerifiedConnection> {
  return connectAndVerify({ host: '127.0.0.1', port: server.port, target: { sipDomain: DOMAIN }, trustStore: store, policy, contexts });
}

/** Round trip over the connection: proves the session is usable (encrypted traffic flows). */
async function echo(socket: TLSSocket, text: string): Promise<string> {
  socket.write(text);
  const chunk = await new Promise<Buffer>((resolve) => socket.once('data', (d: Buffer) => resolve(d)));
  return chunk.toString('utf8');
}

function closeConnection(result: VerifiedConnection): void {
  result.socket?.destroy();
}

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('A.1 valid certificates', () => {
  test('A.1.1: trusted CA, canonical name in the Subject CN, no subjectAltName -> continue', async () => {
    const leaf = issueCertificate({ cn: DOMAIN, issuer: trusted.intermediate, eku: [EKU_SERVER_AUTH] });
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, true, JSON.stringify(result.verdict.reasons));
    assert.equal(result.verdict.method, 'rfc5922');
    assert.equal(result.verdict.matchedIdentity, DOMAIN);
    assert.equal(result.verdict.identitySource, 'cn');
    assert.equal(result.verdict.anchorDepth, 2);
    assert.ok(result.socket);
    assert.equal(await echo(result.socket, 'OPTIONS'), 'OPTIONS');
    closeConnection(result);
  });

  test('A.1.2: trusted CA, canonical name in subjectAltName, other information in the Subject -> continue', async () => {
    const leaf = issueCertificate({ cn: 'Example Net SIP Services', o: 'Example Net', issuer: trusted.intermediate, san: { uri: [`sip:${DOMAIN}`], dns: ['sip1.example.net'] } });
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, true, JSON.stringify(result.verdict.reasons));
    assert.equal(result.verdict.identitySource, 'san-uri');
    assert.equal(result.verdict.matchedIdentity, DOMAIN);
    assert.ok(result.socket);
    closeConnection(result);
  });

  test('A.1.2 (dNSName form): the canonical name as a SAN dNSName -> continue', async () => {
    const leaf = issueCertificate({ cn: 'Example Net SIP Services', issuer: trusted.intermediate, san: { dns: ['EXAMPLE.NET.'] } });
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, true, JSON.stringify(result.verdict.reasons));
    assert.equal(result.verdict.identitySource, 'san-dns');
    closeConnection(result);
  });
});

describe('A.2 invalid certificates', () => {
  test('A.2.1: expired certificate -> the connection is closed immediately', async () => {
    const leaf = issueCertificate({ cn: DOMAIN, issuer: trusted.intermediate, san: { dns: [DOMAIN] }, notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - DAY) });
    const server = await serve([leaf, trusted.intermediate]);
    const result = await connectTo(server);
    assert.equal(result.verdict.ok, false);
    assert.equal(result.verdict.proceed, false);
    assert.deepEqual(result.verdict.reasons.map((r) => r.code), ['expired']);
    assert.equal(result.socket, null);
  });

  describe('A.2.2: trusted CA but no canonical name in the Subject or subjectAltName', () => {
    let server: RunningTlsServer;
    before(async () => {
      const leaf = issueCertificate({ o: 'Example Net', ou: 'SIP', issuer: trusted.intermediate });
      server = await serve([leaf, trusted.intermediate]);
    });

    test('strict policy (the default): not authenticated, closed', async () => {
      const result = await connectTo(server);
      assert.equal(result.verdict.ok, false);
      assert.equal(result.verdict.proceed, false);
      assert.equal(result.verdict.reasons[0]?.code, 'no-identity');
      assert.equal(result.socket, null);
    });

    test('lenient policy: continues encrypted, the verdict says the hop is unauthenticated', async () => {
      const result = await connectTo(server, { mode: 'lenient' });
      assert.equal(result.verdict.ok, false);
      assert.equal(result.verdict.authenticated, false);
      assert.equal(result.verdict.proceed, true);
      assert.equal(result.verdict.method, 'none');
      assert.equal(result.verdict.reasons[0]?.code, 'no-identity');
      assert.ok(result.socket);
      assert.equal(result.socket.encrypted, true);
      assert.equal(await echo(result.socket, 'REGISTER'), 'REGISTER');
      closeConnection(result);
    });

    test('lenient policy does not excuse a wrong name (A.2.3 still fails)', async () => {
      const leaf = issueCertificate({ cn: 'other.example.org', issuer: trusted.intermediate });
      const result = await connectTo(await serve([leaf, trusted.intermediate]), { mode: 'lenient' });
      assert.equal(result.verdict.proceed, false);
      assert.equal(result.socket, null);
    });
  });

  test('A.2.3: wrong canonical name in the Subject CN, no subjectAltName -> terminated', async () => {
    const leaf = issueCertificate({ cn: 'proxy.example.org', issuer: trusted.intermediate });
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, false);
    const [reason] = result.verdict.reasons;
    assert.equal(reason?.code, 'name-mismatch');
    assert.deepEqual(reason?.code === 'name-mismatch' ? reason.presentedIdentities : [], ['proxy.example.org']);
    assert.equal(result.socket, null);
  });

  test('A.2.4: wrong canonical name in subjectAltName, other information in the Subject -> terminated', async () => {
    const leaf = issueCertificate({ cn: DOMAIN, o: 'Example Net', issuer: trusted.intermediate, san: { uri: ['sip:example.org'], dns: ['example.org'] } });
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, false);
    assert.deepEqual(result.verdict.reasons.map((r) => r.code), ['name-mismatch', 'cn-ignored-san-present']);
    assert.equal(result.socket, null);
  });

  test('A.2.5: signed by an unknown certificate authority -> terminated', async () => {
    const unknown = issueHierarchy('Unknown');
    const leaf = issueCertificate({ cn: DOMAIN, issuer: unknown.intermediate, san: { dns: [DOMAIN] } });
    const result = await connectTo(await serve([leaf, unknown.intermediate, unknown.root]));
    assert.equal(result.verdict.ok, false);
    assert.equal(result.verdict.reasons[0]?.code, 'unknown-ca');
    assert.equal(result.socket, null);
  });

  test('A.2.5 (impostor CA): same name as the trusted CA, different key -> bad-signature, terminated', async () => {
    const impostor = issueCertificate({ cn: 'Trusted Issuing CA', o: 'sipsec tests', ca: true });
    const leaf = issueCertificate({ cn: DOMAIN, issuer: impostor, san: { dns: [DOMAIN] } });
    // The leaf names the real intermediate's subject as issuer; the server sends the real intermediate.
    const result = await connectTo(await serve([leaf, trusted.intermediate]));
    assert.equal(result.verdict.ok, false);
    assert.ok(['bad-signature', 'unknown-ca'].includes(result.verdict.reasons[0]?.code ?? ''), JSON.stringify(result.verdict.reasons));
    assert.equal(result.socket, null);
  });
});

describe('A.3 certificate depth', () => {
  // root <- ca1 <- ca2 <- ... <- ca6 <- leaf: the root sits at depth 7.
  const root = issueCertificate({ cn: 'Deep Root CA', ca: true });
  const cas: TestCertificate[] = [];
  let issuer = root;
  for (let i = 1; i <= 6; i++) {
    issuer = issueCertificate({ cn: `Deep CA ${i}`, ca: true, issuer });
    cas.unshift(issuer);
  }
  const leaf = issueCertificate({ cn: DOMAIN, issuer, san: { dns: [DOMAIN] } });
  const deepStore = TrustStore.fromPem(root.pem);
  let server: RunningTlsServer;
  before(async () => {
    server = await serve([leaf, ...cas]);
  });
  const connect = (maxChainDepth?: number): Promise<VerifiedConnection> => connectAndVerify({
    host: '127.0.0.1', port: server.port, target: { sipDomain: DOMAIN }, trustStore: deepStore, contexts,
    policy: maxChainDepth === undefined ? {} : { maxChainDepth },
  });

  test('the default maximum depth (5) refuses a root at depth 7', async () => {
    const result = await connect();
    assert.equal(result.verdict.ok, false);
    assert.equal(result.verdict.reasons[0]?.code, 'chain-too-deep');
    assert.equal(result.presentedChain.length, 7);
    assert.equal(result.socket, null);
  });

  test('a configured maximum depth of 7 accepts it; 6 refuses it', async () => {
    const seven = await connect(7);
    assert.equal(seven.verdict.ok, true, JSON.stringify(seven.verdict.reasons));
    assert.equal(seven.verdict.anchorDepth, 7);
    closeConnection(seven);
    const six = await connect(6);
    assert.equal(six.verdict.ok, false);
    assert.equal(six.verdict.reasons[0]?.code, 'chain-too-deep');
  });

  test('the presented chain is what the server sent, not completed from any store', async () => {
    const result = await connect(7);
    assert.equal(result.presentedChain.length, 7);
    assert.ok(result.presentedChain.every((der) => !der.equals(root.der)));
    closeConnection(result);
  });
});

describe('transport failures', () => {
  test('nothing listening: tls-handshake-failed, no socket', async () => {
    const server = await serve([issueCertificate({ cn: DOMAIN, issuer: trusted.intermediate })]);
    const port = server.port;
    await server.close();
    const result = await connectAndVerify({ host: '127.0.0.1', port, target: { sipDomain: DOMAIN }, trustStore: store, contexts });
    assert.equal(result.verdict.reasons[0]?.code, 'tls-handshake-failed');
    assert.equal(result.socket, null);
  });

  test('the secure context is built once and reused across connections', async () => {
    const leaf = issueCertificate({ cn: DOMAIN, issuer: trusted.intermediate });
    const server = await serve([leaf, trusted.intermediate]);
    for (let i = 0; i < 3; i++) closeConnection(await connectTo(server));
    // Every connection of this file asked for the same context: one build in all.
    assert.equal(contexts.builds, 1);
    assert.equal(contexts.size, 1);
  });
});
