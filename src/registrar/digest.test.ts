import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseAuthValue } from '../sip/auth-headers.js';
import {
  computeHa1, DigestAuthenticator, readDigestCredentials, verifyDigestResponse,
  type DigestAlgorithm, type DigestCredentials, type Ha1Source,
} from './digest.js';
import { registerRequest } from './fixtures.test.support.js';
import type { ResponseSpec } from './response-spec.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const REALM = 'b.test';

function credentialsOf(text: string): DigestCredentials {
  const read = readDigestCredentials(parseAuthValue(text, 'authorization'));
  if ('unsupported' in read) throw new Error(read.unsupported);
  return read;
}

// RFC 7616 section 3.9.1 (the Mufasa example), the request a GET of /dir/index.html.
const MUFASA = (algorithm: string, response: string): string =>
  `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=${algorithm}, ` +
  `nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ` +
  `qop=auth, response="${response}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

test('RFC 7616 section 3.9.1: the Mufasa credentials verify with SHA-256 and with MD5', () => {
  for (const [algorithm, response] of [
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
  ] as const) {
    const credentials = credentialsOf(MUFASA(algorithm, response));
    const ha1 = computeHa1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    assert.equal(verifyDigestResponse(credentials, ha1, 'GET'), true, algorithm);
    assert.equal(verifyDigestResponse(credentials, ha1, 'POST'), false, `${algorithm} with another method`);
    assert.equal(verifyDigestResponse(credentials, computeHa1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle Of Life'), 'GET'), false);
  }
});

test('a response of the wrong length or case is compared safely', () => {
  const credentials = credentialsOf(MUFASA('MD5', '8CA523F5E9506FED4657C9700EEBDBEC'));
  const ha1 = computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  assert.equal(verifyDigestResponse(credentials, ha1, 'GET'), true);
  assert.equal(verifyDigestResponse(credentialsOf(MUFASA('MD5', '8ca523f5')), ha1, 'GET'), false);
});

test('credentials: missing or malformed parameters are format errors; other algorithms and qops unsupported', () => {
  assert.throws(() => credentialsOf('Digest username="a", realm="r", nonce="n", uri="sip:r", qop=auth, nc=00000001, cnonce="c"'), { code: 'AUTH_ERR_BAD_CREDENTIALS' });
  assert.throws(() => credentialsOf('Digest username="a", realm="r", nonce="n", uri="sip:r", qop=auth, nc=1, cnonce="c", response="00"'), { code: 'AUTH_ERR_BAD_CREDENTIALS' });
  assert.throws(() => credentialsOf('Digest username="a", realm="r", nonce="n", uri="sip:r", qop=auth, nc=00000001, cnonce="c", response="zz"'), { code: 'AUTH_ERR_BAD_CREDENTIALS' });
  assert.throws(() => credentialsOf('Digest realm="r", nonce="n", uri="sip:r", qop=auth, nc=00000001, cnonce="c", response="00"'), { code: 'AUTH_ERR_BAD_CREDENTIALS' });
  const unsupported = (text: string): unknown => readDigestCredentials(parseAuthValue(text, 'authorization'));
  assert.deepEqual(unsupported('Digest username="a", realm="r", nonce="n", uri="sip:r", response="00"'), { unsupported: 'credentials without qop' });
  assert.deepEqual(unsupported('Digest username="a", algorithm=SHA-512-256, realm="r"'), { unsupported: 'algorithm SHA-512-256' });
  assert.deepEqual(unsupported('Digest username="a", realm="r", qop=auth-int'), { unsupported: 'qop auth-int' });
  assert.deepEqual(unsupported('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), { unsupported: 'scheme Basic' });
});

/** A clock and the HA1 values of bob (password "secret") and carol (only MD5). */
function setup(options: { algorithms?: DigestAlgorithm[]; maxTrackedNonces?: number } = {}) {
  let nowMs = 1_700_000_000_000;
  let counter = 0;
  const auth = new DigestAuthenticator({
    secret: SECRET,
    ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
    limits: { maxTrackedNonces: options.maxTrackedNonces ?? 100 },
    now: () => nowMs,
    randomBytes: (n) => {
      counter++;
      return Buffer.alloc(n, counter);
    },
  });
  const ha1s: Ha1Source = {
    ha1(username, realm, algorithm) {
      if (username === 'bob' && realm === REALM) return computeHa1(algorithm, 'bob', REALM, 'secret');
      if (username === 'carol' && realm === REALM && algorithm === 'MD5') return computeHa1('MD5', 'carol', REALM, 'pw');
      return undefined;
    },
  };
  return { auth, ha1s, advance: (ms: number) => void (nowMs += ms) };
}

function nonceOf(challenge: ResponseSpec): string {
  const value = challenge.headers[0]?.value ?? '';
  const m = /nonce="([^"]+)"/.exec(value);
  if (m === null) throw new Error(`no nonce in ${value}`);
  return m[1] ?? '';
}

/** Credentials as a UA computes them for REGISTER sip:b.test. */
function answer(nonce: string, o: { user?: string; password?: string; algorithm?: DigestAlgorithm; nc?: number; uri?: string; realm?: string } = {}): string {
  const algorithm = o.algorithm ?? 'SHA-256';
  const user = o.user ?? 'bob';
  const realm = o.realm ?? REALM;
  const uri = o.uri ?? 'sip:b.test';
  const ncText = (o.nc ?? 1).toString(16).padStart(8, '0');
  const ha1 = computeHa1(algorithm, user, realm, o.password ?? 'secret');
  const h = (t: string): string => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(t).digest('hex');
  const response = h(`${ha1}:${nonce}:${ncText}:abc:auth:${h(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=${ncText}, cnonce="abc", response="${response}"`;
}

function requestWith(authorization?: string, header = 'Authorization'): ReturnType<typeof registerRequest> {
  return registerRequest({ headers: authorization === undefined ? [] : [`${header}: ${authorization}`] });
}

test('the challenge: one header per algorithm, SHA-256 first (RFC 8760 section 2.3), qop=auth, one nonce', () => {
  const { auth } = setup();
  const c = auth.challenge('www', REALM);
  assert.equal(c.status, 401);
  assert.deepEqual(c.headers.map((h) => h.name), ['WWW-Authenticate', 'WWW-Authenticate']);
  const nonce = nonceOf(c);
  assert.equal(c.headers[0]?.value, `Digest realm="b.test", nonce="${nonce}", algorithm=SHA-256, qop="auth"`);
  assert.equal(c.headers[1]?.value, `Digest realm="b.test", nonce="${nonce}", algorithm=MD5, qop="auth"`);
  const proxy = auth.challenge('proxy', REALM, true);
  assert.equal(proxy.status, 407);
  assert.deepEqual(proxy.headers.map((h) => h.name), ['Proxy-Authenticate', 'Proxy-Authenticate']);
  assert.match(proxy.headers[0]?.value ?? '', /, stale=true$/);
  // Configured order, e.g. MD5 only for SIPp, which reads the first challenge alone.
  const md5 = setup({ algorithms: ['MD5'] }).auth.challenge('www', REALM);
  assert.deepEqual(md5.headers.map((h) => /algorithm=([^,]+)/.exec(h.value)?.[1]), ['MD5']);
  assert.throws(() => new DigestAuthenticator({ secret: SECRET, algorithms: ['MD5', 'MD5'] }), RangeError);
  assert.throws(() => new DigestAuthenticator({ secret: Buffer.alloc(8) }), RangeError);
});

test('no credentials, or credentials for another realm only: a challenge', () => {
  const { auth, ha1s } = setup();
  const none = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(), ha1s });
  assert.equal(none.kind, 'challenge');
  assert.equal(none.kind === 'challenge' && none.reason, 'no-credentials');
  const other = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('www', 'a.test')), { realm: 'a.test' })), ha1s });
  assert.equal(other.kind === 'challenge' && other.reason, 'no-credentials');
});

test('right password with SHA-256 and with MD5: authenticated; Proxy-Authorization for kind proxy', () => {
  const { auth, ha1s } = setup();
  for (const algorithm of ['SHA-256', 'MD5'] as const) {
    const nonce = nonceOf(auth.challenge('www', REALM));
    const outcome = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce, { algorithm })), ha1s });
    assert.deepEqual(outcome, { kind: 'authenticated', username: 'bob', realm: REALM, algorithm });
  }
  const nonce = nonceOf(auth.challenge('proxy', REALM));
  const asProxy = auth.authenticate({ kind: 'proxy', realm: REALM, request: requestWith(answer(nonce), 'Proxy-Authorization'), ha1s });
  assert.equal(asProxy.kind, 'authenticated');
  // Authorization is not Proxy-Authorization.
  const wrongHeader = auth.authenticate({ kind: 'proxy', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('proxy', REALM)))), ha1s });
  assert.equal(wrongHeader.kind, 'challenge');
});

test('an algorithm not offered is challenged again', () => {
  const { auth, ha1s } = setup({ algorithms: ['SHA-256'] });
  const outcome = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('www', REALM)), { algorithm: 'MD5' })), ha1s });
  assert.equal(outcome.kind === 'challenge' && outcome.reason, 'unsupported');
});

test('unknown user and wrong password get the same answer: status, header names, shape, stale flag', () => {
  const { auth, ha1s } = setup();
  const unknown = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('www', REALM)), { user: 'mallory' })), ha1s });
  const wrong = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('www', REALM)), { password: 'guess' })), ha1s });
  // carol exists but has no SHA-256 HA1: indistinguishable too.
  const noSha = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(auth.challenge('www', REALM)), { user: 'carol', password: 'pw' })), ha1s });
  const shape = (o: typeof unknown): unknown => {
    assert.equal(o.kind, 'challenge');
    if (o.kind !== 'challenge') return undefined;
    return { reason: o.reason, status: o.response.status, phrase: o.response.reason, headers: o.response.headers.map((h) => [h.name, h.value.replace(/nonce="[^"]+"/, 'nonce=N')]) };
  };
  assert.deepEqual(shape(unknown), shape(wrong));
  assert.deepEqual(shape(noSha), shape(wrong));
  // A fresh nonce each time.
  if (unknown.kind === 'challenge' && wrong.kind === 'challenge') assert.notEqual(nonceOf(unknown.response), nonceOf(wrong.response));
});

test('a forged, garbled or other-realm nonce is challenged, not accepted', () => {
  const { auth, ha1s } = setup();
  const nonce = nonceOf(auth.challenge('www', REALM));
  const flipped = `${nonce.slice(0, 5)}${nonce[5] === 'A' ? 'B' : 'A'}${nonce.slice(6)}`;
  for (const bad of [flipped, 'not-a-nonce', nonceOf(auth.challenge('www', 'a.test')), `${nonce}=`]) {
    const outcome = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(bad)), ha1s });
    assert.equal(outcome.kind === 'challenge' && outcome.reason, 'bad-nonce', bad);
  }
  const otherSecret = new DigestAuthenticator({ secret: Buffer.alloc(32, 7) });
  const foreign = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(otherSecret.challenge('www', REALM)))), ha1s });
  assert.equal(foreign.kind === 'challenge' && foreign.reason, 'bad-nonce');
});

test('a nonce made by another instance with the same secret is accepted', () => {
  const { auth, ha1s } = setup();
  const other = new DigestAuthenticator({ secret: SECRET, now: () => 1_700_000_000_000 });
  const outcome = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonceOf(other.challenge('www', REALM)))), ha1s });
  assert.equal(outcome.kind, 'authenticated');
});

test('an expired nonce: stale=true only with the right password', () => {
  const { auth, ha1s, advance } = setup();
  const nonce = nonceOf(auth.challenge('www', REALM));
  advance(301_000);
  const right = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce)), ha1s });
  assert.equal(right.kind === 'challenge' && right.reason, 'stale-nonce');
  assert.match(right.kind === 'challenge' ? (right.response.headers[0]?.value ?? '') : '', /stale=true/);
  const wrong = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce, { password: 'x' })), ha1s });
  assert.equal(wrong.kind === 'challenge' && wrong.reason, 'bad-credentials');
  assert.doesNotMatch(wrong.kind === 'challenge' ? (wrong.response.headers[0]?.value ?? '') : '', /stale/);
  // Dated in the future beyond the skew: not fresh either.
  const { auth: early, advance: rewind } = setup();
  const future = nonceOf(early.challenge('www', REALM));
  rewind(-31_000);
  assert.equal(early.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(future)), ha1s }).kind, 'challenge');
});

test('replay: a nonce-count is accepted once; out of order within the window, not below it', () => {
  const { auth, ha1s } = setup();
  const nonce = nonceOf(auth.challenge('www', REALM));
  const use = (nc: number) => auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce, { nc })), ha1s });
  assert.equal(use(1).kind, 'authenticated');
  const replay = use(1);
  assert.equal(replay.kind === 'challenge' && replay.reason, 'replayed');
  assert.equal(use(5).kind, 'authenticated');
  assert.equal(use(3).kind, 'authenticated');
  assert.equal(use(3).kind, 'challenge');
  assert.equal(use(40).kind, 'authenticated');
  // 5 is now 35 below the highest: outside the 32-count window.
  assert.equal(use(8).kind, 'challenge');
  assert.equal(use(39).kind, 'authenticated');
});

test('the nonce-count memory is bounded, and a forgotten nonce is answered stale, never accepted again', () => {
  const { auth, ha1s, advance } = setup({ maxTrackedNonces: 3 });
  const nonces: string[] = [];
  for (let i = 0; i < 5; i++) {
    nonces.push(nonceOf(auth.challenge('www', REALM)));
    advance(1_000);
  }
  for (const nonce of nonces) assert.equal(auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce)), ha1s }).kind, 'authenticated');
  assert.equal(auth.trackedNonces, 3);
  const again = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonces[0] ?? '', { nc: 2 })), ha1s });
  assert.equal(again.kind === 'challenge' && again.reason, 'forgotten-nonce');
  assert.match(again.kind === 'challenge' ? (again.response.headers[0]?.value ?? '') : '', /stale=true/);
  // A later nonce still in memory goes on working.
  assert.equal(auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonces[4] ?? '', { nc: 2 })), ha1s }).kind, 'authenticated');
});

test('malformed credentials and a uri other than the Request-URI are 400', () => {
  const { auth, ha1s } = setup();
  const nonce = nonceOf(auth.challenge('www', REALM));
  const missing = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(`Digest username="bob", realm="b.test", nonce="${nonce}", uri="sip:b.test", qop=auth, nc=00000001, cnonce="x"`), ha1s });
  assert.equal(missing.kind, 'bad-request');
  assert.equal(missing.response.status, 400);
  const garbledRequest = requestWith();
  garbledRequest.addHeader('Authorization', 'Digest realm="b.test", ,,');
  const garbled = auth.authenticate({ kind: 'www', realm: REALM, request: garbledRequest, ha1s });
  assert.equal(garbled.kind, 'bad-request');
  const otherUri = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce, { uri: 'sip:a.test' })), ha1s });
  assert.equal(otherUri.kind, 'bad-request');
  // An equivalent spelling of the Request-URI (RFC 3261 section 19.1.4) is the same URI.
  const equivalent = auth.authenticate({ kind: 'www', realm: REALM, request: requestWith(answer(nonce, { uri: 'sip:B.TEST' })), ha1s });
  assert.equal(equivalent.kind, 'authenticated');
});
