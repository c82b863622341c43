import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../lab/certificates.js';
import { TrustStore } from '../tls/trust-store.js';
import { Responder } from '../ua/responder.js';
import { REPO_ROOT } from '../../test/support/paths.js';
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
    assert.match(overTcp.out, /response: 200 OK \(round trip \d+ ms\)/);
    // Plain transport because the URI asked for it: exit 0, and the output says so plainly.
    assert.match(overTcp.out, /result: 200 OK over plain TCP, as sip: asked: the hop is neither encrypted nor verified/);

    const textTls = await options(['--ca', caFile, '--to', `127.0.0.1:${tls.port}`, 'sips:b.example']);
    assert.equal(textTls.code, 0, textTls.out + textTls.err);
    assert.match(textTls.out, /^tls: TLSv1\.[23], cipher TLS_\w+$/m);
    assert.match(textTls.out, /result: 200 OK over TLS, server verified \(rfc5922, b\.example\)/);
    assert.doesNotMatch(textTls.out, /request sent:/);
    const verbose = await options(['--verbose', '--ca', caFile, '--to', `127.0.0.1:${tls.port}`, 'sips:b.example']);
    assert.equal(verbose.code, 0);
    assert.match(verbose.out, /request sent:\n {2}> OPTIONS sips:b\.example SIP\/2\.0\n/);

    const overTls = await options(['--json', '--ca', caFile, '--to', `127.0.0.1:${tls.port}`, 'sips:b.example']);
    assert.equal(overTls.code, 0, overTls.out + overTls.err);
    const tlsResult = JSON.parse(overTls.out) as { schema: string; exit: number; rttMs: number; session: { protocol: string; cipher: string }; response: { status: number }; tls: { authenticated: boolean; method: string; matchedIdentity: string } };
    assert.equal(tlsResult.schema, 'sipsec.options/1');
    assert.equal(tlsResult.exit, 0);
    assert.equal(typeof tlsResult.rttMs, 'number');
    assert.match(tlsResult.session.protocol, /^TLSv1\.[23]$/);
    assert.match(tlsResult.session.cipher, /^TLS_/);
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
  assert.equal((await options(['--timeout', '1.5', 'sip:x@example.com'])).code, 2);
});

test('sipsec options finds bad --to and --cert/--key before anything is sent (exit 2, named)', async () => {
  const outOfRange = await options(['--to', '127.0.0.1:99999', 'sips:b.example']);
  assert.equal(outOfRange.code, 2);
  assert.match(outOfRange.err, /port must be from 1 to 65535, not '99999'/);
  for (const bare of ['::1', '2001:db8::1']) {
    const v6 = await options(['--to', bare, 'sips:b.example']);
    assert.equal(v6.code, 2);
    assert.match(v6.err, new RegExp(`write an IPv6 address in brackets.*\\[${bare.replace(/\./g, '\\.')}\\]:PORT`));
  }
  assert.equal((await options(['--to', '[127.0.0.1]:5061', 'sips:b.example'])).code, 2);
  assert.equal((await options(['--to', '127.0.0.1:0', 'sips:b.example'])).code, 2);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-options-keys-'));
  try {
    const ca = issueCertificate({ cn: 'Keys CA', ca: true });
    const mine = issueCertificate({ cn: 'client.example', issuer: ca, eku: [EKU_CLIENT_AUTH] });
    const other = issueCertificate({ cn: 'other.example', issuer: ca, eku: [EKU_CLIENT_AUTH] });
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    const otherKeyFile = path.join(dir, 'other-key.pem');
    fs.writeFileSync(certFile, mine.pem);
    fs.writeFileSync(keyFile, mine.keyPem);
    fs.writeFileSync(otherKeyFile, other.keyPem);
    // A closed port: had anything been sent, the result would be connection-refused (exit 3), not 2.
    const to = ['--to', '127.0.0.1:9'];
    const swapped = await options([...to, '--cert', keyFile, '--key', certFile, 'sips:b.example']);
    assert.equal(swapped.code, 2);
    assert.match(swapped.err, /the two are swapped/);
    const keyAsCert = await options([...to, '--cert', keyFile, '--key', keyFile, 'sips:b.example']);
    assert.equal(keyAsCert.code, 2);
    assert.match(keyAsCert.err, /--cert .* holds a private key, not a certificate/);
    const mismatch = await options([...to, '--cert', certFile, '--key', otherKeyFile, 'sips:b.example']);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.err, /does not belong to the certificate/);
    assert.equal(mismatch.out, '');
    // `-` reads standard input: the key given there, swapped with the certificate, is read and named.
    const main = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
    const stdin = spawnSync(process.execPath, [main, 'options', ...to, '--cert', '-', '--key', certFile, 'sips:b.example'], { input: mine.keyPem, encoding: 'utf8' });
    assert.equal(stdin.status, 2, stdin.stderr);
    assert.match(stdin.stderr, /--cert - holds a private key and --key .* a certificate: the two are swapped/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
