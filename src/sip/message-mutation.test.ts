/**
 * Writing headers (docs/SIP-MESSAGES.md "Writing headers"): addHeader, setHeader, removeHeader and
 * removeFirstValue keep every typed reader true after the write, on full and lazy parses and on
 * messages built by code; a write is validated first (names are tokens; no CR, LF or NUL in a
 * value) and a refused write changes nothing. The injection cases in typed-headers.test.ts are
 * not repeated here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipParseError } from './errors.js';
import { SipRequest, type HeaderField, type SipMessage } from './message.js';
import { parseMessage } from './parse-message.js';
import { serializeMessage } from './serialize-message.js';
import { parseSipUri } from './uri.js';

const WIRE = Buffer.from(
  [
    'INVITE sip:bob@example.net SIP/2.0',
    'Via: SIP/2.0/TLS edge.example.com;branch=z9hG4bKedge, SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKua',
    'Max-Forwards: 70',
    'Route: <sip:p1.example.net;lr>, <sip:p2.example.net;lr>',
    'To: <sip:bob@example.net>',
    'From: <sip:alice@example.com>;tag=from1',
    'Call-ID: call-1@192.0.2.4',
    'CSeq: 7 INVITE',
    'Subject: first',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

/** The same message, parsed fully, lazily, and built by code from the parsed fields. */
function variants(): Array<[string, SipMessage]> {
  const full = parseMessage(WIRE);
  const built = new SipRequest('INVITE', parseSipUri('sip:bob@example.net'));
  for (const h of full.headers) built.addHeader(h.name, h.value);
  return [['full', full], ['lazy', parseMessage(WIRE, { depth: 'lazy' })], ['built', built]];
}

/** Reads every cached reader once, so that a later write has something to keep true. */
function readAll(m: SipMessage): void {
  m.topVia(); m.via(); m.callId(); m.cseq(); m.routes(); m.maxForwards(); m.contentLength(); m.fromTag(); m.toTag(); m.from(); m.to();
}

test('a Via prepended with addHeader is the new topVia() and via()[0]; removeFirstValue takes it off again', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    m.addHeader('v', 'SIP/2.0/UDP proxy.example.org;branch=z9hG4bKprox', { prepend: true });
    assert.equal(m.topVia()?.host, 'proxy.example.org', name);
    assert.deepEqual(m.via().map((v) => v.host), ['proxy.example.org', 'edge.example.com', '192.0.2.4'], name);
    assert.equal(m.headers.findIndex((h) => h.key === 'via'), 0, `${name}: written above the other Via fields`);
    assert.equal(m.removeFirstValue('via'), 'SIP/2.0/UDP proxy.example.org;branch=z9hG4bKprox', name);
    // The first Via field holds two values: removing the first leaves the second in that field.
    assert.equal(m.removeFirstValue('Via'), 'SIP/2.0/TLS edge.example.com;branch=z9hG4bKedge', name);
    assert.equal(m.topVia()?.host, '192.0.2.4', name);
    assert.equal(m.topVia()?.transport, 'TCP', name);
    assert.deepEqual(m.via().map((v) => v.host), ['192.0.2.4'], name);
    assert.equal(m.removeFirstValue('via'), 'SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKua', name);
    assert.equal(m.topVia(), undefined, name);
    assert.deepEqual(m.via(), [], name);
    assert.equal(m.removeFirstValue('via'), undefined, `${name}: nothing left to remove`);
  }
});

test('a prepend with no field of its kind goes to the top; an append goes to the end', () => {
  for (const [name, m] of variants()) {
    m.addHeader('Record-Route', '<sip:rr.example.net;lr>', { prepend: true });
    assert.equal(m.headers[0]?.key, 'record-route', name);
    m.addHeader('Record-Route', '<sip:rr2.example.net;lr>');
    assert.equal(m.headers.at(-1)?.key, 'record-route', name);
    assert.deepEqual(m.recordRoutes().map((r) => r.uri.toString()), ['sip:rr.example.net;lr', 'sip:rr2.example.net;lr'], name);
  }
});

test('setHeader replaces every field of its kind with one, where the first was; the readers follow', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    const at = m.headers.findIndex((h) => h.key === 'cseq');
    m.setHeader('CSeq', '8 INVITE');
    assert.deepEqual(m.cseq(), { seq: 8, method: 'INVITE' }, name);
    assert.equal(m.headers.findIndex((h) => h.key === 'cseq'), at, `${name}: same place`);
    m.setHeader('i', 'call-2@192.0.2.4');
    assert.equal(m.callId(), 'call-2@192.0.2.4', name);
    m.setHeader('max-forwards', '69');
    assert.equal(m.maxForwards(), 69, name);
    m.setHeader('via', 'SIP/2.0/UDP only.example.org;branch=z9hG4bKonly');
    assert.equal(m.fields('via').length, 1, name);
    assert.equal(m.topVia()?.host, 'only.example.org', name);
    m.setHeader('to', '<sip:bob@example.net>;tag=to9');
    assert.equal(m.toTag(), 'to9', name);
    assert.equal(m.to().uri.toString(), 'sip:bob@example.net', name);
    m.setHeader('From', '<sip:carol@example.com>;tag=from2');
    assert.equal(m.fromTag(), 'from2', name);
    // A header not there yet is added at the end.
    m.setHeader('x-new', 'one');
    assert.equal(m.headers.at(-1)?.value, 'one', name);
    // undefined removes the header.
    m.setHeader('subject', undefined);
    assert.equal(m.header('subject'), undefined, name);
    const back = parseMessage(serializeMessage(m));
    assert.deepEqual([back.callId(), back.cseq().seq, back.topVia()?.host, back.toTag(), back.fromTag()], ['call-2@192.0.2.4', 8, 'only.example.org', 'to9', 'from2'], name);
  }
});

test('removeHeader removes every field by any spelling and says how many; the readers follow', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    m.addHeader('route', '<sip:p3.example.net;lr>');
    assert.equal(m.routes().length, 3, name);
    assert.equal(m.removeHeader('ROUTE'), 2, `${name}: two fields, three values`);
    assert.deepEqual(m.routes(), [], name);
    assert.equal(m.removeHeader('route'), 0, name);
    assert.equal(m.removeHeader('v'), 1, name);
    assert.equal(m.topVia(), undefined, name);
    assert.equal(m.removeHeader('i'), 1, name);
    assert.throws(() => m.callId(), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_MISSING_HEADER', name);
    assert.equal(m.removeHeader('cseq'), 1, name);
    assert.throws(() => m.cseq(), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_MISSING_HEADER', name);
    // Removing a header the parser had found for the lazy readers: the other readers still find theirs.
    assert.equal(m.removeHeader('max-forwards'), 1, name);
    assert.equal(m.maxForwards(), undefined, name);
    assert.equal(m.fromTag(), 'from1', name);
    assert.equal(m.contentLength(), 0, name);
  }
});

test('removeFirstValue on Route takes the first route only; on a header that is absent it returns undefined', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    assert.equal(m.removeFirstValue('route'), '<sip:p1.example.net;lr>', name);
    assert.deepEqual(m.routes().map((r) => r.uri.toString()), ['sip:p2.example.net;lr'], name);
    assert.equal(m.removeFirstValue('route'), '<sip:p2.example.net;lr>', name);
    assert.equal(m.header('route'), undefined, `${name}: the emptied field is gone`);
    assert.equal(m.removeFirstValue('route'), undefined, name);
  }
});

test('writes to other headers leave the readers of the tracked ones right (the field positions move)', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    // Each prepend of a kind not yet present shifts every field by one.
    m.addHeader('x-first', 'a', { prepend: true });
    m.addHeader('x-second', 'b', { prepend: true });
    m.removeHeader('subject');
    assert.equal(m.topVia()?.host, 'edge.example.com', name);
    assert.equal(m.callId(), 'call-1@192.0.2.4', name);
    assert.deepEqual(m.cseq(), { seq: 7, method: 'INVITE' }, name);
    assert.equal(m.fromTag(), 'from1', name);
    assert.equal(m.toTag(), undefined, name);
    assert.equal(m.maxForwards(), 70, name);
    assert.equal(m.contentLength(), 0, name);
  }
  // The same before anything was read, on a lazy parse whose readers would use the parser's record.
  const lazy = parseMessage(WIRE, { depth: 'lazy' });
  lazy.addHeader('x-first', 'a', { prepend: true });
  lazy.removeHeader('max-forwards');
  assert.equal(lazy.topVia()?.host, 'edge.example.com');
  assert.equal(lazy.callId(), 'call-1@192.0.2.4');
  assert.deepEqual(lazy.cseq(), { seq: 7, method: 'INVITE' });
  assert.equal(lazy.fromTag(), 'from1');
  assert.equal(lazy.maxForwards(), undefined);
});

test('a duplicate added by addHeader is seen by the single-value readers', () => {
  for (const [name, m] of variants()) {
    readAll(m);
    m.addHeader('call-id', 'second@192.0.2.4');
    assert.throws(() => m.callId(), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_DUPLICATE_HEADER', name);
    m.addHeader('max-forwards', '10');
    assert.throws(() => m.maxForwards(), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_DUPLICATE_HEADER', name);
  }
});

test('refused writes: a name that is not a token, CR, LF or NUL in a value; nothing is written or removed', () => {
  const badNames = ['', 'Sub ject', 'Sub:ject', 'Subject\r\n', 'Sub\u0000ject', 'Caf\u00e9', 'X(y)'];
  const badValues = ['x\r\nRoute: <sip:attacker.example;lr>', 'x\rRoute', 'x\nRoute', 'x\u0000y', '\r\n'];
  for (const [name, m] of variants()) {
    readAll(m);
    const before = serializeMessage(m);
    for (const bad of badNames) {
      assert.throws(() => m.addHeader(bad, 'v'), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_NAME', `${name}: ${JSON.stringify(bad)}`);
      assert.throws(() => m.setHeader(bad, 'v'), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_NAME', `${name}: ${JSON.stringify(bad)}`);
    }
    for (const bad of badValues) {
      const refused = (err: unknown): boolean => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_HEADER_VALUE';
      assert.throws(() => m.addHeader('Subject', bad), refused, `${name}: ${JSON.stringify(bad)}`);
      assert.throws(() => m.addHeader('via', bad, { prepend: true }), refused, `${name}: ${JSON.stringify(bad)}`);
      // setHeader refuses before it removes: the existing field stays.
      assert.throws(() => m.setHeader('subject', bad), refused, `${name}: ${JSON.stringify(bad)}`);
      assert.throws(() => m.setHeader('cseq', bad), refused, `${name}: ${JSON.stringify(bad)}`);
    }
    assert.deepEqual(serializeMessage(m), before, `${name}: unchanged`);
    assert.equal(m.header('subject'), 'first', name);
    assert.deepEqual(m.cseq(), { seq: 7, method: 'INVITE' }, name);
    assert.equal(m.topVia()?.host, 'edge.example.com', name);
  }
});

test('every field a parse accepted can be written again through addHeader (a proxy copies fields)', () => {
  const received = parseMessage(Buffer.from(
    'MESSAGE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKcopy\r\nMax-Forwards: 70\r\n' +
      'To: <sip:bob@example.net>\r\nFrom: "A \\"quoted\\" name" <sip:alice@example.com>;tag=1\r\nCall-ID: copy@192.0.2.4\r\nCSeq: 1 MESSAGE\r\n' +
      'Subject: tab\there and caf\u00e9\r\nX-Folded: one\r\n two\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n',
    'utf8',
  ));
  assert.ok(received instanceof SipRequest);
  const copy = new SipRequest('MESSAGE', received.uri);
  for (const h of received.headers) copy.addHeader(h.name, h.value);
  const back = parseMessage(serializeMessage(copy));
  assert.deepEqual(back.headers.map((h) => [h.key, h.value]), received.headers.map((h) => [h.key, h.value]));
});

test('the header list is read-only to the type checker; writes go through the methods', () => {
  const m = parseMessage(WIRE);
  const headers = m.headers;
  // The type says so: this line compiles only while headers is a readonly array.
  const readonlyList: SipMessage['headers'] extends HeaderField[] ? false : true = true;
  // @ts-expect-error a field is read-only
  const rename = (): string => (headers[0]!.value = 'x');
  assert.equal(readonlyList, true);
  assert.equal(typeof rename, 'function');
  // The array handed out reflects the writes made through the methods.
  m.addHeader('x-seen', 'yes');
  assert.equal(m.headers.at(-1)?.value, 'yes');
});

test('removeFirstValue on a header that is not a list takes its whole first field, as headerValues counts it', () => {
  for (const [name, m] of variants()) {
    m.setHeader('subject', 'Hello, world');
    m.addHeader('subject', 'second');
    m.addHeader('Proxy-Authorization', 'Digest username="alice", realm="example.com", nonce="n1", uri="sip:bob@example.net", response="00"');
    m.addHeader('Proxy-Authorization', 'Digest username="alice", realm="other.example", nonce="n2", uri="sip:bob@example.net", response="11"');
    assert.deepEqual(m.headerValues('subject'), ['Hello, world', 'second'], name);
    assert.equal(m.removeFirstValue('subject'), 'Hello, world', name);
    assert.deepEqual(m.headerValues('subject'), ['second'], name);
    // A proxy taking off the credentials it consumed leaves the other realm's whole.
    assert.equal(m.removeFirstValue('proxy-authorization')?.includes('nonce="n1"'), true, name);
    assert.deepEqual(m.proxyAuthorizations().map((a) => a.params.find((p) => p.name === 'realm')?.value), ['"other.example"'], name);
  }
});
