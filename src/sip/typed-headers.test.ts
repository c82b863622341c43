/**
 * Typed access to the headers that the torture tests do not reach one by one: the values each
 * reader returns, Contact `*`, unknown headers kept byte for byte, and the header-count and
 * line-length limits (SIP_LIMITS) with the response a server sends for each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectMessage, parseMessage } from './parse-message.js';
import { serializeMessage } from './serialize-message.js';
import { SipRequest, SipResponse } from './message.js';
import { SipParseError } from './errors.js';
import type { SipUri } from './uri.js';
import type { SipLimits } from '../limits.js';
import type { SipFaultCode } from './errors.js';

function request(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

const BASE = [
  'Via: SIP/2.0/TLS proxy.example.com:5061;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sips:bob@example.net>',
  'From: "Alice A." <sips:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
];

test('Authorization, Proxy-Authorization, WWW-Authenticate and Proxy-Authenticate give scheme and params as written', () => {
  const req = parseMessage(request([
    'REGISTER sips:example.com SIP/2.0', ...BASE, 'CSeq: 2 REGISTER',
    'Authorization: Digest username="alice", realm="example.com", nonce="dcd98b7102dd2f0e", uri="sips:example.com", response="6629fae49393a05397450978507c4ef1", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="0a4f113b"',
    'Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    'Content-Length: 0',
  ]));
  assert.ok(req instanceof SipRequest);
  const [auth] = req.authorizations();
  assert.ok(auth);
  assert.equal(auth.scheme, 'Digest');
  const params = new Map(auth.params.map((p) => [p.name, p.value]));
  assert.equal(params.get('username'), '"alice"');
  assert.equal(params.get('algorithm'), 'SHA-256');
  assert.equal(params.get('nc'), '00000001');
  assert.equal(auth.params.length, 9);
  const [basic] = req.proxyAuthorizations();
  assert.equal(basic?.scheme, 'Basic');
  assert.equal(basic?.token, 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==');

  const res = parseMessage(request([
    'SIP/2.0 407 Proxy Authentication Required', ...BASE, 'CSeq: 2 INVITE',
    'WWW-Authenticate: Digest realm="example.com", nonce="aaa", algorithm=SHA-256',
    'Proxy-Authenticate: Digest realm="example.net", nonce="bbb", stale=FALSE',
    'Proxy-Authenticate: Digest realm="example.net", nonce="ccc", algorithm=MD5',
    'Content-Length: 0',
  ]));
  assert.ok(res instanceof SipResponse);
  assert.deepEqual(res.wwwAuthenticates().map((a) => a.params.find((p) => p.name === 'nonce')?.value), ['"aaa"']);
  assert.deepEqual(res.proxyAuthenticates().map((a) => a.params.find((p) => p.name === 'nonce')?.value), ['"bbb"', '"ccc"']);
});

test('Route, Record-Route, Require, Proxy-Require, Supported, Unsupported, Content-Type, Expires', () => {
  const req = parseMessage(request([
    'INVITE sips:bob@example.net SIP/2.0', ...BASE, 'CSeq: 1 INVITE',
    'Route: <sips:p1.example.com;lr>, <sips:p2.example.net;lr>',
    'Record-Route: <sips:p2.example.net;lr>',
    'Record-Route: <sips:p1.example.com;lr>',
    'Require: 100rel',
    'Proxy-Require: e2e-sec, foo',
    'k: timer, e2e-sec',
    'Unsupported: bar',
    'c: application/SDP; charset=UTF-8',
    'Expires: 3600',
    'Content-Length: 4',
  ], 'v=0\n'));
  assert.deepEqual(req.routes().map((r) => r.uri.toString()), ['sips:p1.example.com;lr', 'sips:p2.example.net;lr']);
  assert.deepEqual(req.recordRoutes().map((r) => (r.uri as SipUri).host), ['p2.example.net', 'p1.example.com']);
  assert.deepEqual(req.require(), ['100rel']);
  assert.deepEqual(req.proxyRequire(), ['e2e-sec', 'foo']);
  assert.deepEqual(req.supported(), ['timer', 'e2e-sec']);
  assert.deepEqual(req.unsupported(), ['bar']);
  const type = req.contentType();
  assert.equal(type?.type, 'application');
  assert.equal(type?.subtype, 'sdp');
  assert.deepEqual(type?.params.map((p) => [p.name.toLowerCase(), p.value]), [['charset', 'UTF-8']]);
  assert.equal(req.expires(), 3600);
});

test('Warning and Reason: code, agent, text and cause', () => {
  const res = parseMessage(request([
    'SIP/2.0 503 Service Unavailable', ...BASE, 'CSeq: 1 INVITE',
    'Warning: 399 p1.example.com "dane-no-match: no TLSA record matches"',
    'Reason: SIP;cause=503;text="dane-no-match", Q.850;cause=16',
    'Content-Length: 0',
  ]));
  assert.deepEqual(res.warnings(), [{ code: 399, agent: 'p1.example.com', text: 'dane-no-match: no TLSA record matches' }]);
  const reasons = res.reasons();
  assert.equal(reasons.length, 2);
  assert.equal(reasons[0]?.protocol, 'SIP');
  assert.equal(reasons[0]?.cause, 503);
  assert.equal(reasons[0]?.text, 'dane-no-match');
  assert.equal(reasons[1]?.protocol, 'Q.850');
  assert.equal(reasons[1]?.cause, 16);
});

test('Contact: * in a REGISTER is the star value; a star beside another value is refused', () => {
  const star = parseMessage(request(['REGISTER sips:example.com SIP/2.0', ...BASE, 'CSeq: 3 REGISTER', 'Contact: *', 'Expires: 0', 'Content-Length: 0']));
  assert.deepEqual(star.contacts(), [{ star: true }]);
  const mixed = inspectMessage(request(['REGISTER sips:example.com SIP/2.0', ...BASE, 'CSeq: 3 REGISTER', 'Contact: *, <sip:alice@192.0.2.4>', 'Content-Length: 0']));
  assert.equal(mixed.ok, false);
  if (!mixed.ok) assert.equal(mixed.response?.status, 400);
});

test('unknown headers are kept byte for byte through parse and serialize', () => {
  const odd = [
    'X-Weird-Thing:   spaced   value ,  with "quoted, comma" <and;angles>',
    'x-lower-case: ABC',
    'P-Unknown:',
  ];
  const bytes = request(['OPTIONS sips:bob@example.net SIP/2.0', ...BASE, 'CSeq: 7 OPTIONS', ...odd, 'Content-Length: 0']);
  const out = serializeMessage(parseMessage(bytes)).toString('utf8');
  for (const line of odd) assert.ok(out.includes(`\r\n${line}\r\n`), `kept as written: ${line}`);
  const msg = parseMessage(bytes);
  assert.equal(msg.header('x-weird-thing'), 'spaced   value ,  with "quoted, comma" <and;angles>');
});

/** The message passes under `roomy` limits and is refused under `tight` ones with 400 naming `code`. */
function assertLimit(bytes: Buffer, roomy: Partial<SipLimits>, tight: Partial<SipLimits>, code: SipFaultCode, phrase: RegExp): void {
  assert.equal(inspectMessage(bytes, { limits: roomy }).ok, true);
  const result = inspectMessage(bytes, { limits: tight });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.ok(result.faults.some((f) => f.code === code), `${code} among ${result.faults.map((f) => f.code).join(', ')}`);
  assert.equal(result.response?.status, 400);
  assert.match(result.response?.reason ?? '', phrase);
}

const OPTIONS_HEAD = ['OPTIONS sips:bob@example.net SIP/2.0', ...BASE, 'CSeq: 7 OPTIONS'];

test('limits: more header fields than maxHeaderCount is refused with 400 naming the fault', () => {
  const extra = Array.from({ length: 12 }, (_, i) => `X-Filler-${i}: ${i}`);
  assertLimit(request([...OPTIONS_HEAD, ...extra, 'Content-Length: 0']), { maxHeaderCount: 32 }, { maxHeaderCount: 10 }, 'SIP_ERR_TOO_MANY_HEADERS', /too many header fields/);
});

test('limits: a header line longer than maxLineBytes is refused with 400 naming the fault', () => {
  const long = `X-Long: ${'a'.repeat(600)}`;
  assertLimit(request([...OPTIONS_HEAD, long, 'Content-Length: 0']), { maxLineBytes: 1024 }, { maxLineBytes: 512 }, 'SIP_ERR_LINE_TOO_LONG', /header line too long/);
  // A folded field (RFC 3261 section 7.3.1) is measured whole, its continuation line included.
  const folded = `X-Long: ${'a'.repeat(300)}\r\n ${'b'.repeat(300)}`;
  assertLimit(request([...OPTIONS_HEAD, folded, 'Content-Length: 0']), { maxLineBytes: 1024 }, { maxLineBytes: 512 }, 'SIP_ERR_LINE_TOO_LONG', /header line too long/);
});

test('a lazily parsed message keeps its values when the next parse reuses the shared scratch and its bytes are overwritten', () => {
  const first = request(['OPTIONS sips:bob@example.net SIP/2.0', ...BASE, 'CSeq: 7 OPTIONS', 'Content-Length: 0']);
  const a = parseMessage(first, { depth: 'lazy' });
  const b = parseMessage(request([
    'INVITE sips:carol@example.org SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKother', 'Max-Forwards: 70',
    'To: <sips:carol@example.org>;tag=99', 'From: <sips:dave@example.org>;tag=42', 'Call-ID: other@192.0.2.7', 'CSeq: 1 INVITE',
    'Subject: a header the first message does not have', 'Content-Length: 0',
  ]), { depth: 'lazy' });
  // The receive buffer a transport reuses: the first message must not read it any more.
  first.fill(0x58);
  assert.equal(a.topVia()?.host, 'proxy.example.com');
  assert.equal(a.fromTag(), '1928301774');
  assert.equal(a.toTag(), undefined);
  assert.equal(a.callId(), 'a84b4c76e66710@pc33.example.com');
  assert.deepEqual(a.cseq(), { seq: 7, method: 'OPTIONS' });
  assert.equal(a.contentLength(), 0);
  assert.equal(b.topVia()?.host, '192.0.2.7');
  assert.equal(b.toTag(), '99');
  assert.equal(b.header('subject'), 'a header the first message does not have');
});

test('a header section cut off inside a header name is an unterminated section, not a crash', () => {
  for (const cut of ['Via', 'Content-Lengt', 'Content-Length', 'X-Cust', 'Via:', 'Via: ', 'v']) {
    const head = ['OPTIONS sips:bob@example.net SIP/2.0', ...BASE, 'CSeq: 7 OPTIONS'].join('\r\n');
    for (const bytes of [Buffer.from(`${head}\r\n${cut}`), Buffer.from(`${head}\r\n${cut}\r\n`)]) {
      for (const depth of ['full', 'lazy'] as const) {
        const result = inspectMessage(bytes, { depth });
        assert.equal(result.ok, false, `${JSON.stringify(cut)} ${depth}`);
        if (!result.ok) assert.equal(result.faults[0]?.code, 'SIP_ERR_NO_HEADER_END', `${JSON.stringify(cut)} ${depth}`);
      }
    }
  }
});

test('header writes are validated: no CR, LF or NUL in a value, names are tokens; the list is read-only and every change keeps the typed caches true', () => {
  const m = parseMessage(Buffer.from('OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nTo: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  const injection = (err: unknown): boolean => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_VALUE';
  assert.throws(() => m.addHeader('subject', 'x\r\nRoute: <sip:attacker.example;lr>'), injection);
  assert.throws(() => m.addHeader('subject', 'x\nRoute: <sip:attacker.example;lr>'), injection);
  assert.throws(() => m.setHeader('subject', 'x\u0000y'), injection);
  assert.throws(() => m.addHeader('bad name', 'v'), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_NAME');
  assert.throws(() => m.addHeader('x:y', 'v'), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_NAME');
  assert.equal(m.header('route'), undefined, 'nothing was written by a refused call');
  m.addHeader('subject', 'tab\tand UTF-8 \u00e9 are fine');
  assert.equal(m.header('subject'), 'tab\tand UTF-8 \u00e9 are fine');
  // The typed cache follows every write: the top Via read before a prepend is not returned after it.
  assert.equal(m.topVia()?.host, '192.0.2.1');
  m.addHeader('via', 'SIP/2.0/TLS proxy.example.com;branch=z9hG4bKb', { prepend: true });
  assert.equal(m.topVia()?.host, 'proxy.example.com');
  assert.equal(m.removeFirstValue('via'), 'SIP/2.0/TLS proxy.example.com;branch=z9hG4bKb');
  assert.equal(m.topVia()?.host, '192.0.2.1');
  const back = parseMessage(serializeMessage(m));
  assert.equal(back.header('subject'), 'tab\tand UTF-8 \u00e9 are fine');
});
