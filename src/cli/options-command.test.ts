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

test('sipsec options over WS and verified WSS (RFC 7118) against a live responder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-options-ws-'));
  const ca = issueCertificate({ cn: 'Options WS Test CA', ca: true });
  const server = issueCertificate({ cn: 'ws.b.example', issuer: ca, san: { uri: ['sip:b.example'], dns: ['b.example'] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.pem);
  const responder = await Responder.start({
    listeners: [
      { transport: 'ws', address: '127.0.0.1', port: 0 },
      { transport: 'wss', address: '127.0.0.1', port: 0, certificates: [{ domains: ['b.example'], cert: server.pem, key: server.keyPem }] },
    ],
    trustStore: TrustStore.fromPem(ca.pem),
    log: () => undefined,
  });
  try {
    const [ws, wss] = responder.listening();
    assert.ok(ws && wss);

    const overWs = await options(['--json', '--to', `127.0.0.1:${ws.port}`, 'sip:alice@b.example;transport=ws']);
    assert.equal(overWs.code, 0, overWs.out + overWs.err);
    const wsResult = JSON.parse(overWs.out) as { target: { transport: string }; response: { status: number }; tls: unknown };
    assert.equal(wsResult.target.transport, 'ws');
    assert.equal(wsResult.response.status, 200);
    assert.equal(wsResult.tls, null);

    // sips with transport=ws is WebSocket over TLS (RFC 7118 sections 5.2 and 5.5).
    const overWss = await options(['--json', '--ca', caFile, '--to', `127.0.0.1:${wss.port}`, 'sips:b.example;transport=ws']);
    assert.equal(overWss.code, 0, overWss.out + overWss.err);
    const wssResult = JSON.parse(overWss.out) as { target: { transport: string }; response: { status: number }; tls: { authenticated: boolean; matchedIdentity: string } };
    assert.equal(wssResult.target.transport, 'wss');
    assert.equal(wssResult.response.status, 200);
    assert.equal(wssResult.tls.authenticated, true);
    assert.equal(wssResult.tls.matchedIdentity, 'b.example');

    // Another domain on the same WSS server: refused at once, naming the failed check.
    const wrongDomain = await options(['--ca', caFile, '--to', `127.0.0.1:${wss.port}`, 'sips:c.example;transport=wss']);
    assert.equal(wrongDomain.code, 1);
    assert.match(wrongDomain.out, /target: wss /);
    assert.match(wrongDomain.out, /response: 503 Service Unavailable \(made locally: transport-error\)/);
    assert.match(wrongDomain.out, /name-mismatch/);

    // WebSocket servers are not located by DNS: --to is required.
    assert.equal((await options(['sip:b.example;transport=ws'])).code, 2);
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
