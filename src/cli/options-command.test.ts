import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../lab/certificates.js';
import { TrustStore } from '../tls/trust-store.js';
import { Responder } from '../ua/responder.js';
import { runCli } from './run-cli.js';

async function options(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['options', ...args], { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

test('sipsec options over UDP, TCP and verified TLS against a live responder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-options-'));
  const ca = issueCertificate({ cn: 'Options Test CA', ca: true });
  const server = issueCertificate({ cn: 'sip.b.example', issuer: ca, san: { uri: ['sip:b.example'], dns: ['b.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.pem);
  const responder = await Responder.start({
    listeners: [
      { transport: 'udp', address: '127.0.0.1', port: 0 },
      { transport: 'tcp', address: '127.0.0.1', port: 0 },
      { transport: 'tls', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example'], cert: server.pem, key: server.keyPem }] },
    ],
    trustStore: TrustStore.fromPem(ca.pem),
    log: () => undefined,
  });
  try {
    const [udp, tcp, tls] = responder.listening();
    assert.ok(udp && tcp && tls);

    const overUdp = await options(['--json', '--to', `127.0.0.1:${udp.port}`, 'sip:alice@b.example']);
    assert.equal(overUdp.code, 0, overUdp.out + overUdp.err);
    const udpResult = JSON.parse(overUdp.out) as { response: { status: number; headers: Array<[string, string]> }; tls: unknown };
    assert.equal(udpResult.response.status, 200);
    assert.equal(udpResult.tls, null);
    assert.ok(udpResult.response.headers.some(([name]) => name.toLowerCase() === 'allow'));

    const overTcp = await options(['--to', `127.0.0.1:${tcp.port}`, 'sip:b.example;transport=tcp']);
    assert.equal(overTcp.code, 0, overTcp.out + overTcp.err);
    assert.match(overTcp.out, /response: 200 OK/);

    const overTls = await options(['--json', '--ca', caFile, '--to', `127.0.0.1:${tls.port}`, 'sips:b.example']);
    assert.equal(overTls.code, 0, overTls.out + overTls.err);
    const tlsResult = JSON.parse(overTls.out) as { response: { status: number }; tls: { authenticated: boolean; method: string; matchedIdentity: string } };
    assert.equal(tlsResult.response.status, 200);
    assert.equal(tlsResult.tls.authenticated, true);
    assert.equal(tlsResult.tls.method, 'rfc5922');
    assert.equal(tlsResult.tls.matchedIdentity, 'b.example');

    // The same server asked for another domain: no timeout, an immediate 503 naming the failed check.
    const wrongDomain = await options(['--ca', caFile, '--to', `127.0.0.1:${tls.port}`, 'sips:c.example']);
    assert.equal(wrongDomain.code, 1);
    assert.match(wrongDomain.out, /response: 503 Service Unavailable \(made locally: transport-error\)/);
    assert.match(wrongDomain.out, /Warning: 399 .*peer-not-authenticated/i);
    assert.match(wrongDomain.out, /name-mismatch/);

    // Not trusting the CA: unknown-ca, also at once.
    const untrusted = await options(['--json', '--to', `127.0.0.1:${tls.port}`, 'sips:b.example']);
    assert.equal(untrusted.code, 1);
    const untrustedResult = JSON.parse(untrusted.out) as { response: { status: number }; tls: { authenticated: boolean; reasons: Array<{ code: string }> } };
    assert.equal(untrustedResult.response.status, 503);
    assert.ok(untrustedResult.tls.reasons.some((r) => r.code === 'unknown-ca'), JSON.stringify(untrustedResult.tls.reasons));
  } finally {
    await responder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sipsec options usage errors exit 2', async () => {
  assert.equal((await options([])).code, 2);
  assert.equal((await options(['mailto:x@example.com'])).code, 2);
  assert.equal((await options(['--to', 'not-an-ip', 'sip:x@example.com'])).code, 2);
  assert.equal((await options(['--cert', 'a.pem', 'sip:x@example.com'])).code, 2);
  assert.equal((await options(['--timeout', '-3', 'sip:x@example.com'])).code, 2);
});
