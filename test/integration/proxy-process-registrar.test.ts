/**
 * The registrar through running `sipsec proxy` processes (issue 13 items 4 and 9): two instances
 * for one domain on one Redis see each other's registrations; a restarted instance (Redis or
 * SQLite) has lost no binding; with Redis stopped a REGISTER gets 500 with Retry-After, and once
 * Redis is back the next one succeeds. Addresses: Redis 127.0.0.161, proxies 127.0.0.162-163 and
 * .165, the user agent .164 (no other test uses 127.0.0.160-169).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../../src/lab/certificates.js';
import { computeDigestResponse, computeHa1 } from '../../src/registrar/digest.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { buildResponse } from '../../src/transaction/local-response.js';
import { buildRequest } from '../../src/ua/build-request.js';
import { SipStack } from '../../src/ua/sip-stack.js';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startProxy, type RunningProxy } from '../support/trapezoid-lab.js';

const DOMAIN = 'r.test';
const REDIS = { host: '127.0.0.161', port: 6379 };
const P1 = '127.0.0.162';
const P2 = '127.0.0.163';
const P_SQLITE = '127.0.0.165';
const UA = '127.0.0.164';
const PASSWORD = 'bob-secret';

let dir: string;
let redis: RedisServer;
let ua: SipStack;
const running: RunningProxy[] = [];

function writeConfig(name: string, address: string, location: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, [
    'domains:',
    `  ${DOMAIN}: { certificate: r.pem, key: r.key }`,
    `listen: [ "udp://${address}:5060" ]`,
    'dns: { unbound: unbound.conf }',
    'users: users.yaml',
    'auth: { algorithms: [ MD5 ], secret-file: nonce.key }',
    `location: "${location}"`,
    'limits: { location: { redisCommandTimeoutMs: 500, redisMaxReconnectDelayMs: 200 } }',
    '',
  ].join('\n'));
  return file;
}

async function proxy(config: string): Promise<RunningProxy> {
  const p = await startProxy(config);
  running.push(p);
  return p;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-proxy-registrar-'));
  const ca = issueCertificate({ cn: 'registrar CA', ca: true });
  const leaf = issueCertificate({ cn: DOMAIN, issuer: ca, san: { dns: [DOMAIN], uri: [`sip:${DOMAIN}`] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  fs.writeFileSync(path.join(dir, 'r.pem'), leaf.pem);
  fs.writeFileSync(path.join(dir, 'r.key'), leaf.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'users.yaml'), `bob@${DOMAIN}: { password: "${PASSWORD}" }\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'nonce.key'), randomBytes(32), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'unbound.conf'), 'server:\n');
  redis = redisServer(REDIS.host, REDIS.port, dir);
  await redis.start();
  // bob's phone: answers every OPTIONS with 200, so that reaching it proves the binding was found.
  ua = await SipStack.start({
    listeners: [{ transport: 'udp', address: UA, port: 5070 }],
    log: () => undefined,
    tu: () => ({ onRequest: (tx, request) => tx.respond(buildResponse(request, 200, 'OK', { toTag: 'bob' })) }),
  });
});

after(async () => {
  for (const p of running) await p.stop();
  await ua?.close({ force: true });
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One request from bob's phone to a proxy, answering a 401 challenge once with digest MD5. */
async function exchange(proxyAddress: string, make: (cseq: number) => SipRequest): Promise<SipResponse> {
  const send = (request: SipRequest): Promise<SipResponse> => new Promise((resolve) => {
    ua.transactions.sendRequest(request, { transport: 'udp', address: proxyAddress, port: 5060 }, {
      onResponse: (response) => {
        if (response.status >= 200) resolve(response);
      },
    });
  });
  const first = make(1);
  const answer = await send(first);
  if (answer.status !== 401) return answer;
  const challenge = answer.wwwAuthenticates()[0];
  const param = (name: string): string => (challenge?.params.find((p) => p.name.toLowerCase() === name)?.value ?? '').replace(/^"|"$/g, '');
  const realm = param('realm');
  const uri = first.uri.toString();
  const cnonce = randomBytes(8).toString('hex');
  const credentials = { username: 'bob', realm, nonce: param('nonce'), uri, response: '', algorithm: 'MD5' as const, cnonce, nc: 1, ncText: '00000001', qop: 'auth' as const };
  const digest = computeDigestResponse(credentials, computeHa1('MD5', 'bob', realm, PASSWORD), first.method);
  const second = make(2);
  second.setHeader('call-id', first.callId());
  const opaque = param('opaque');
  second.addHeader('authorization', `Digest username="bob", realm="${realm}", nonce="${credentials.nonce}", uri="${uri}", response="${digest}", algorithm=MD5, cnonce="${cnonce}", nc=00000001, qop=auth${opaque !== '' ? `, opaque="${opaque}"` : ''}`);
  return send(second);
}

let registerCseq = 0;
function register(proxyAddress: string, expires = 600): Promise<SipResponse> {
  const base = (registerCseq += 10);
  const callId = `reg-${randomBytes(4).toString('hex')}`;
  return exchange(proxyAddress, (n) => {
    const request = buildRequest({
      method: 'REGISTER', uri: parseSipUri(`sip:${DOMAIN}`), from: `sip:bob@${DOMAIN}`, to: `sip:bob@${DOMAIN}`,
      via: { transport: 'udp', host: UA, port: 5070 }, cseq: base + n, headers: [['contact', `<sip:bob@${UA}:5070>`], ['expires', String(expires)]],
    });
    request.setHeader('call-id', callId);
    return request;
  });
}

/**
 * An OPTIONS for bob's address of record through a proxy: 200 when the proxy found his binding and
 * reached his phone. From a user of the domain: one of another domain would have to come over
 * mutual TLS (policy mutual-tls), which is not what this test is about.
 */
function reachBob(proxyAddress: string): Promise<SipResponse> {
  return exchange(proxyAddress, (n) => buildRequest({
    method: 'OPTIONS', uri: parseSipUri(`sip:bob@${DOMAIN}`), from: `sip:carol@${DOMAIN}`, via: { transport: 'udp', host: UA, port: 5070 }, cseq: n,
  }));
}

test('two instances on one Redis serve one domain: a registration at one is found by the other, and survives a restart', async () => {
  const one = await proxy(writeConfig('one', P1, `redis://${REDIS.host}:${REDIS.port}/0`));
  await proxy(writeConfig('two', P2, `redis://${REDIS.host}:${REDIS.port}/0`));
  const registered = await register(P1);
  assert.equal(registered.status, 200, `${registered.status} ${registered.reason}\n${one.output().slice(-2000)}`);
  assert.equal((await reachBob(P2)).status, 200, 'the second instance finds the binding the first wrote');
  await one.stop();
  const again = await proxy(writeConfig('one', P1, `redis://${REDIS.host}:${REDIS.port}/0`));
  assert.equal((await reachBob(P1)).status, 200, `after a restart the binding is still there\n${again.output().slice(-2000)}`);
});

test('Redis stopped: REGISTER gets 500 with Retry-After at once; Redis back: the next REGISTER gets 200', async () => {
  const p = running.find((r) => r.events().some((e) => Array.isArray(e.listeners) && String(e.listeners).includes(P1) && e.event === 'proxy-started')) ?? await proxy(writeConfig('one', P1, `redis://${REDIS.host}:${REDIS.port}/0`));
  await redis.stop();
  const refused = await register(P1);
  assert.equal(refused.status, 500, `${refused.status} ${refused.reason}\n${p.output().slice(-2000)}`);
  assert.match(refused.header('retry-after') ?? '', /^\d+/);
  await redis.start();
  let back: SipResponse | undefined;
  // The client reconnects on its own; the first REGISTER after the restart may still find it reconnecting.
  for (let i = 0; i < 20 && back?.status !== 200; i++) {
    back = await register(P1);
    if (back.status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(back?.status, 200, `${back?.status} ${back?.reason}\n${p.output().slice(-2000)}`);
  assert.equal((await reachBob(P2)).status, 200);
});

test('SQLite: a restarted proxy has lost no binding', async () => {
  const config = writeConfig('sqlite', P_SQLITE, 'sqlite:bindings.db');
  const first = await proxy(config);
  assert.equal((await register(P_SQLITE)).status, 200, first.output().slice(-2000));
  await first.stop();
  const second = await proxy(config);
  assert.equal((await reachBob(P_SQLITE)).status, 200, second.output().slice(-2000));
});
