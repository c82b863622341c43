import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../../src/lab/certificates.js';
import { startKamailio } from '../../src/lab/kamailio.js';
import { Responder } from '../../src/ua/responder.js';
import { runCli } from '../../src/cli/run-cli.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import type { TransportContext } from '../../src/transport/transport-context.js';

interface OptionsJson {
  response: { status: number; reason: string } | null;
  tls: { authenticated: boolean; method: string; matchedIdentity: string | null; reasons: Array<{ code: string }> } | null;
}

test('mutual TLS with Kamailio in both directions: OPTIONS answered, each side verifies the other', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-kamailio-test-'));
  const ca = issueCertificate({ cn: 'Interop CA', ca: true });
  const eku = [EKU_SERVER_AUTH, EKU_CLIENT_AUTH];
  const kamailioCert = issueCertificate({ cn: 'kamailio.test', issuer: ca, san: { uri: ['sip:kamailio.test'], dns: ['kamailio.test'] }, eku });
  const sipsecCert = issueCertificate({ cn: 'sipsec.test', issuer: ca, san: { uri: ['sip:sipsec.test'], dns: ['sipsec.test'] }, eku });
  const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  fs.writeFileSync(files.ca, ca.pem);
  fs.writeFileSync(files.cert, sipsecCert.pem);
  fs.writeFileSync(files.key, sipsecCert.keyPem);

  // Kamailio -> sipsec: its dispatcher pings our TLS listener with OPTIONS, presenting its client certificate.
  const received: TransportContext[] = [];
  const responder = await Responder.start({
    listeners: [{ transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['sipsec.test'], cert: sipsecCert.pem, key: sipsecCert.keyPem }] }],
    trustStore: TrustStore.fromPem(ca.pem),
    requireClientCertificate: true,
    log: () => undefined,
    onAnswered: (request, _status, context) => {
      if (request.method === 'OPTIONS') received.push(context);
    },
  });
  const sipsecPort = responder.listening()[0]?.port ?? 0;
  const kamailio = await startKamailio({
    cert: kamailioCert.pem,
    key: kamailioCert.keyPem,
    ca: ca.pem,
    pingTargets: [`sip:127.0.0.1:${sipsecPort};transport=tls`],
    logRequests: true,
  });
  try {
    // sipsec -> Kamailio: OPTIONS over mutual TLS; Kamailio requires our certificate, we verify its name.
    const out: string[] = [];
    const code = await runCli(['options', '--json', '--ca', files.ca, '--cert', files.cert, '--key', files.key, '--timeout', '10000', '--to', `127.0.0.1:${kamailio.tlsPort}`, 'sips:kamailio.test'], {
      stdout: (t) => void out.push(t),
      stderr: (t) => void out.push(t),
    });
    assert.equal(code, 0, `${out.join('')}\n${kamailio.output().slice(-3000)}`);
    const result = JSON.parse(out.join('')) as OptionsJson;
    assert.equal(result.response?.status, 200);
    assert.equal(result.tls?.authenticated, true);
    assert.equal(result.tls?.method, 'rfc5922');
    assert.equal(result.tls?.matchedIdentity, 'kamailio.test');

    // Without our certificate Kamailio refuses the handshake: the failure is reported at once.
    const refused: string[] = [];
    const refusedCode = await runCli(['options', '--json', '--ca', files.ca, '--timeout', '10000', '--to', `127.0.0.1:${kamailio.tlsPort}`, 'sips:kamailio.test'], {
      stdout: (t) => void refused.push(t),
      stderr: (t) => void refused.push(t),
    });
    // A refused handshake (or the connection cut after it, TLS 1.3) is a transport failure: no answer, exit 3.
    assert.equal(refusedCode, 3, refused.join(''));
    const refusedResult = JSON.parse(refused.join('')) as OptionsJson;
    assert.equal(refusedResult.response?.status, 503);

    // Kamailio's pings arrive within a few intervals; wait for the first without a fixed sleep.
    const deadline = Date.now() + 20_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const [ping] = received;
    assert.ok(ping !== undefined, `no OPTIONS from Kamailio\n${kamailio.output().slice(-3000)}`);
    assert.equal(ping.transport, 'tls');
    assert.equal(ping.peer?.authenticated, true);
    assert.deepEqual(ping.peer?.peerIdentities, ['kamailio.test']);
  } finally {
    await kamailio.stop();
    await responder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
