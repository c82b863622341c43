/**
 * The inbound hop policies (issue 15 items 1 and 2) in the trapezoid of test/support/trapezoid-lab.ts:
 * requests with a From of domain a sent straight to proxy B, by a raw TLS client (node:tls, with or
 * without a client certificate from the lab's CA) or over UDP, each policy once passing and once
 * violated: the status, the Warning word, the Reason and proxy B's `policy-refused` log line. The
 * ordinary calls from A to B with the defaults on are proxy-trapezoid*.test.ts; the last test sends
 * one through proxy A itself, whose source address B checks by reverse DNS.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, type TestCertificate } from '../../src/lab/certificates.js';
import type { SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parse-message.js';
import { startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_REVERSE, TRAP_USERS, type RunningProxy, type TrapezoidLab } from '../support/trapezoid-lab.js';
import { askThroughProxy, showResponse } from '../support/trapezoid-ua.js';

/** A host of other domains (a hosting provider): its certificate names only itself. */
const HOSTING = 'hosting.trap.test';

let lab: TrapezoidLab;
let hosting: TestCertificate;

before(async () => {
  lab = await startTrapezoidLab();
  hosting = issueCertificate({
    cn: HOSTING, o: 'sipsec tests', issuer: lab.certs.ca,
    san: { dns: [HOSTING], uri: [`sip:${HOSTING}`] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
  });
});

after(async () => {
  await lab?.stop();
});

/** Proxy B with these `policy:` keys added to the lab's config (each test starts and stops its own). */
async function withProxyB(policy: string | undefined, body: (proxy: RunningProxy) => Promise<void>): Promise<void> {
  let config = lab.configs.b;
  if (policy !== undefined) {
    config = join(lab.dir, `b-${randomBytes(3).toString('hex')}.yaml`);
    await writeFile(config, `${await readFile(lab.configs.b, 'utf8')}policy: ${policy}\n`);
  }
  const proxy = await startProxy(config);
  try {
    await body(proxy);
  } finally {
    await proxy.stop();
  }
}

/** An OPTIONS to domain b itself (proxy B answers it when no policy refuses), from alice of domain a. */
function options(via: string, from = `sip:alice@${TRAP.a}`): string {
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  return [
    `OPTIONS sip:${TRAP.b} SIP/2.0`,
    `Via: ${via};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <${from}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${TRAP.b}>`,
    `Call-ID: policy-${randomBytes(6).toString('hex')}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

interface TlsClient {
  readonly cert?: TestCertificate;
  readonly localAddress?: string;
}

/** Sends one request over a new TLS connection to proxy B and reads the final response. */
function overTls(client: TlsClient, request: string): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: TRAP_ADDRESS.b, port: 5061, servername: TRAP.b, ca: lab.certs.ca.pem,
      ...(client.cert !== undefined ? { cert: client.cert.pem, key: client.cert.keyPem } : {}),
      ...(client.localAddress !== undefined ? { localAddress: client.localAddress } : {}),
    });
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('no final response within 10 s')), 10_000);
    const done = (outcome: SipResponse | Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    socket.once('secureConnect', () => socket.write(request));
    socket.on('error', (err: Error) => done(err));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Responses here carry no body: each ends at its blank line.
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const response = parseMessage(buffered.subarray(0, end + 4)) as SipResponse;
        buffered = buffered.subarray(end + 4);
        if (response.status >= 200) return done(response);
      }
    });
  });
}

/** Sends one request over UDP to proxy B from `address` and reads the final response. */
async function overUdp(request: (port: number) => string, address = '127.0.0.1'): Promise<SipResponse> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  try {
    return await new Promise<SipResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no final response within 10 s')), 10_000);
      socket.on('message', (bytes) => {
        const response = parseMessage(bytes) as SipResponse;
        if (response.status < 200) return;
        clearTimeout(timer);
        resolve(response);
      });
      socket.send(request(socket.address().port), 5060, TRAP_ADDRESS.b);
    });
  } finally {
    socket.close();
  }
}

/** The refusal as the caller sees it and as proxy B logs it; returns the log line. */
async function assertRefused(proxy: RunningProxy, response: SipResponse, word: string): Promise<Record<string, unknown>> {
  const show = `${response.status} ${response.reason}\n${response.headerValues('warning').join('\n')}\n${proxy.output().slice(-3000)}`;
  assert.equal(response.status, 403, show);
  const warning = response.warnings()[0];
  assert.equal(warning?.code, 399, show);
  // Our advertised name, with the port of the listener the request came in on.
  assert.match(warning?.agent ?? '', /^b\.trap\.test:506[01]$/, show);
  assert.match(warning?.text ?? '', new RegExp(`^${word}: `), show);
  const reason = response.reasons()[0];
  assert.equal(reason?.protocol, 'SIP', show);
  assert.equal(reason?.cause, 403, show);
  assert.equal(reason?.text, word, show);
  const callId = response.callId();
  return proxy.waitFor((e) => e.event === 'policy-refused' && e.callId === callId && e.word === word && e.level === 40, 5_000);
}

function assertPassed(proxy: RunningProxy, response: SipResponse): void {
  const callId = response.callId();
  assert.equal(response.status, 200, `${response.status} ${response.reason} ${response.headerValues('warning').join(' ')}\n${proxy.output().slice(-3000)}`);
  assert.equal(proxy.events().find((e) => e.event === 'policy-refused' && e.callId === callId), undefined);
}

const VIA_A = `SIP/2.0/TLS ${TRAP.a}:5061`;

test('mutual-tls (default on): no client certificate, over TLS or UDP, is refused with no-client-certificate; A\'s certificate passes', async () => {
  await withProxyB(undefined, async (proxy) => {
    const bare = await assertRefused(proxy, await overTls({}, options(VIA_A)), 'no-client-certificate');
    assert.deepEqual(bare.peerIdentities, [], JSON.stringify(bare));
    assert.equal(bare.fromDomain, TRAP.a);
    assert.match(String(bare.from), /alice@a\.trap\.test/);
    assert.match(String(bare.via), /^SIP\/2\.0\/TLS a\.trap\.test:5061;branch=/);
    assert.match(String(bare.remote), /^tls:127\.0\.0\.1:\d+$/);
    assert.match(String(bare.detail), /no client certificate was presented/);

    const udp = await assertRefused(proxy, await overUdp((port) => options(`SIP/2.0/UDP 127.0.0.1:${port}`)), 'no-client-certificate');
    assert.match(String(udp.detail), /must come over mutual TLS, not UDP/);

    assertPassed(proxy, await overTls({ cert: lab.certs.a }, options(VIA_A)));
    // A user of b itself over UDP is none of these policies' business.
    assertPassed(proxy, await overUdp((port) => options(`SIP/2.0/UDP 127.0.0.1:${port}`, `sip:bob@${TRAP.b}`)));
  });
});

test('mutual-tls: a certificate of another domain cannot speak for a.trap.test (from-domain-not-certified), unless policy.peers allows it', async () => {
  const viaHosting = `SIP/2.0/TLS ${HOSTING}:5061`;
  await withProxyB(undefined, async (proxy) => {
    const line = await assertRefused(proxy, await overTls({ cert: hosting }, options(viaHosting)), 'from-domain-not-certified');
    assert.deepEqual(line.peerIdentities, [HOSTING]);
    assert.equal(line.fromDomain, TRAP.a);
    // Its own domain it may speak for.
    assertPassed(proxy, await overTls({ cert: hosting }, options(viaHosting, `sip:someone@${HOSTING}`)));
  });
  await withProxyB(`{ peers: { ${HOSTING}: [ ${TRAP.a} ] } }`, async (proxy) => {
    assertPassed(proxy, await overTls({ cert: hosting }, options(viaHosting)));
    // The entry lists a.trap.test only.
    await assertRefused(proxy, await overTls({ cert: hosting }, options(viaHosting, 'sip:eve@other.trap.test')), 'from-domain-not-certified');
  });
});

test('via-trail (default on): an IP address as top Via sent-by is refused (via-sent-by-mismatch); the certified name passes; off, the IP passes', async () => {
  const viaIp = `SIP/2.0/TLS ${TRAP_ADDRESS.a}:5061`;
  await withProxyB(undefined, async (proxy) => {
    const line = await assertRefused(proxy, await overTls({ cert: lab.certs.a }, options(viaIp)), 'via-sent-by-mismatch');
    assert.match(String(line.via), /^SIP\/2\.0\/TLS 127\.0\.0\.141:5061;branch=/);
    assert.deepEqual(line.peerIdentities, [TRAP.a]);
    assert.match(String(line.detail), /IP address/);
    // A name, but not one the certificate covers (the SRV host is a dNSName only, beside sip URIs).
    await assertRefused(proxy, await overTls({ cert: lab.certs.a }, options(`SIP/2.0/TLS sip.${TRAP.a}:5061`)), 'via-sent-by-mismatch');
    assertPassed(proxy, await overTls({ cert: lab.certs.a }, options(VIA_A)));
  });
  await withProxyB('{ via-trail: false }', async (proxy) => {
    assertPassed(proxy, await overTls({ cert: lab.certs.a }, options(viaIp)));
  });
});

test('reverse-dns (off by default; on here): a PTR name forward-confirmed to the source passes, a PTR that does not resolve back is refused', async () => {
  await withProxyB('{ reverse-dns: true }', async (proxy) => {
    const passed = await overTls({ cert: lab.certs.a, localAddress: TRAP_REVERSE.confirmed }, options(VIA_A));
    assertPassed(proxy, passed);
    const checked = await proxy.waitFor((e) => e.event === 'reverse-dns-checked' && e.address === TRAP_REVERSE.confirmed);
    assert.equal(checked.confirmed, TRAP.a, JSON.stringify(checked));
    // No trust anchor covers 127.in-addr.arpa: the state is logged as it is.
    assert.equal(checked.dnssec, 'insecure', JSON.stringify(checked));

    const forged = await overTls({ cert: lab.certs.a, localAddress: TRAP_REVERSE.forged }, options(VIA_A));
    const line = await assertRefused(proxy, forged, 'reverse-dns-mismatch');
    assert.match(String(line.detail), new RegExp(`does not resolve back to ${TRAP_REVERSE.forged.replace(/\./g, '\\.')}`));
    const found = line.reverseDns as { ptrNames: string[]; forward: Array<{ addresses: string[] }>; dnssec: string };
    assert.deepEqual(found.ptrNames, [TRAP.a]);
    assert.deepEqual(found.forward.map((f) => f.addresses), [[TRAP_ADDRESS.a]]);
    assert.equal(found.dnssec, 'insecure');
  });
});

test('reverse-dns at B passes a request that proxy A itself forwards: A connects from its TLS listener\'s address, whose PTR names a', async () => {
  const proxyA = await startProxy(lab.configs.a);
  try {
    await withProxyB('{ reverse-dns: true }', async (proxyB) => {
      const response = await askThroughProxy({ address: '127.0.0.1', proxy: TRAP_ADDRESS.a, user: 'alice', domain: TRAP.a, password: TRAP_USERS.a.alice }, 'OPTIONS', `sip:${TRAP.b}`);
      assert.equal(response.status, 200, `${showResponse(response)}\nproxy A:\n${proxyA.output().slice(-3000)}\nproxy B:\n${proxyB.output().slice(-3000)}`);
      const checked = await proxyB.waitFor((e) => e.event === 'reverse-dns-checked');
      assert.equal(checked.address, TRAP_ADDRESS.a, JSON.stringify(checked));
      assert.equal(checked.confirmed, TRAP.a, JSON.stringify(checked));
    });
  } finally {
    await proxyA.stop();
  }
});
