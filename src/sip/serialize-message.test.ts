/**
 * serializeMessage (docs/SIP-MESSAGES.md): fields that came off the wire are written back exactly as
 * received, folding and spelling kept; fields written by code as `Name: value`; the header text in
 * the encoding it was decoded with, so that bytes which are not UTF-8 survive; the body as bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from './parse-message.js';
import { serializeMessage } from './serialize-message.js';
import { SipRequest, SipResponse } from './message.js';
import { parseSipUri } from './uri.js';

function bytes(lines: readonly string[], body: Buffer | string = ''): Buffer {
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

const DIALOG = [
  'To: Bob <sip:bob@example.net>',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
];

test('a parsed request is written back byte for byte: compact names, odd spacing, folded fields, a body', () => {
  const sdp = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.4\r\ns=-\r\n';
  const wire = bytes([
    'INVITE sip:bob@example.net SIP/2.0',
    'v: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds8',
    'Via  :   SIP/2.0/TCP proxy.example.com;branch=z9hG4bK77',
    'max-forwards: 70',
    ...DIALOG,
    'CSeq:     1 INVITE',
    'Subject: a subject\r\n  folded over\r\n\ttwo lines',
    'X-Unknown:',
    'c: application/sdp',
    `l: ${Buffer.byteLength(sdp)}`,
  ], sdp);
  const message = parseMessage(wire);
  assert.equal(message.header('subject'), 'a subject folded over two lines', 'the value unfolds');
  assert.deepEqual(serializeMessage(message), wire);
});

test('a parsed response is written back byte for byte, its reason phrase as received', () => {
  const wire = bytes([
    'SIP/2.0 486 Busy  Here, try later',
    'Via: SIP/2.0/TLS 192.0.2.4:5061;branch=z9hG4bKnashds8;received=192.0.2.4',
    ...DIALOG.map((line) => (line.startsWith('To:') ? `${line};tag=a6c85cf` : line)),
    'CSeq: 1 INVITE',
    'Retry-After: 60 (in a meeting)',
    'Content-Length: 0',
  ]);
  const message = parseMessage(wire);
  assert.ok(message instanceof SipResponse);
  assert.equal(message.reason, 'Busy  Here, try later');
  assert.deepEqual(serializeMessage(message), wire);
});

test('header bytes that are not UTF-8 survive the round trip (decoded and written as Latin-1)', () => {
  const wire = Buffer.concat([
    bytes(['OPTIONS sip:bob@example.net SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKl1', ...DIALOG, 'CSeq: 1 OPTIONS']).subarray(0, -2),
    Buffer.from([0x53, 0x75, 0x62, 0x6a, 0x65, 0x63, 0x74, 0x3a, 0x20, 0xe9, 0xff, 0x0d, 0x0a]), // "Subject: \xe9\xff\r\n"
    Buffer.from('Content-Length: 0\r\n\r\n'),
  ]);
  const message = parseMessage(wire);
  assert.equal(message.headerEncoding, 'latin1');
  assert.deepEqual(serializeMessage(message), wire);
  // Valid UTF-8 stays UTF-8: one character of two bytes is written as those two bytes.
  const utf8 = bytes(['OPTIONS sip:bob@example.net SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKl2', ...DIALOG, 'CSeq: 1 OPTIONS', 'Subject: caf\u00e9', 'Content-Length: 0'].map((l) => Buffer.from(l, 'utf8').toString('latin1')));
  const decoded = parseMessage(utf8);
  assert.equal(decoded.header('subject'), 'caf\u00e9');
  assert.deepEqual(serializeMessage(decoded), utf8);
});

test('fields written by code are `Name: value` under the canonical name, beside received fields kept as they were', () => {
  const wire = bytes(['OPTIONS sip:bob@example.net SIP/2.0', 'v:  SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKc1', ...DIALOG, 'CSeq: 1 OPTIONS', 'l: 0']);
  const message = parseMessage(wire);
  message.addHeader('v', 'SIP/2.0/TLS proxy.example.com;branch=z9hG4bKc2', { prepend: true });
  message.setHeader('MAX-FORWARDS', '69');
  message.addHeader('x-added', 'by code');
  const text = serializeMessage(message).toString('utf8');
  assert.equal(text.split('\r\n')[1], 'Via: SIP/2.0/TLS proxy.example.com;branch=z9hG4bKc2');
  assert.equal(text.split('\r\n')[2], 'v:  SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKc1', 'the received field keeps its spelling');
  assert.ok(text.includes('\r\nMax-Forwards: 69\r\n'));
  assert.ok(text.endsWith('\r\nX-Added: by code\r\n\r\n'), 'added at the end');
  // What was written parses back to the same values.
  const back = parseMessage(Buffer.from(text, 'utf8'));
  assert.deepEqual(back.via().map((v) => v.host), ['proxy.example.com', '192.0.2.4']);
  assert.equal(back.maxForwards(), 69);
  assert.equal(back.header('x-added'), 'by code');
});

test('a message built by code serializes to what parses back to it; setBody keeps Content-Length true', () => {
  const request = new SipRequest('MESSAGE', parseSipUri('sip:bob@example.net'));
  request.addHeader('via', 'SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKm1');
  request.addHeader('max-forwards', '70');
  request.addHeader('to', '<sip:bob@example.net>');
  request.addHeader('from', '<sip:alice@example.com>;tag=9');
  request.addHeader('call-id', 'm1@192.0.2.4');
  request.addHeader('cseq', '1 MESSAGE');
  request.setBody(Buffer.from('first body'), 'text/plain');
  // A second body of another length: Content-Length follows, and still appears once.
  const body = Buffer.from('h\u00e9llo, a longer body\r\n\r\nwith an empty line', 'utf8');
  request.setBody(body, 'text/plain;charset=utf-8');
  const wire = serializeMessage(request);
  assert.equal(wire.toString('utf8').split('\r\n').filter((l) => /^content-length:/i.test(l)).length, 1);
  const back = parseMessage(wire, { framing: 'stream' });
  assert.ok(back instanceof SipRequest);
  assert.equal(back.method, 'MESSAGE');
  assert.equal(back.uri.toString(), 'sip:bob@example.net');
  assert.equal(back.contentLength(), body.length);
  assert.deepEqual(Buffer.from(back.body), body);
  assert.equal(back.contentType()?.type, 'text');
  assert.deepEqual(back.cseq(), { seq: 1, method: 'MESSAGE' });
  // And a parse of the written bytes writes them again unchanged.
  assert.deepEqual(serializeMessage(back), wire);
});

test('a response built by code writes its status line and an empty body', () => {
  const response = new SipResponse(404, 'Not Found');
  response.addHeader('content-length', '0');
  assert.equal(serializeMessage(response).toString('utf8'), 'SIP/2.0 404 Not Found\r\nContent-Length: 0\r\n\r\n');
});

test('a field written by code into a Latin-1 message cannot smuggle a CR LF through a character above U+00FF', () => {
  // Header bytes that are not UTF-8: the message is decoded and written as Latin-1.
  const wire = Buffer.concat([
    Buffer.from('OPTIONS sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKl3\r\nTo: <sip:bob@example.net>\r\n'),
    Buffer.from('From: <sip:alice@example.com>;tag=1\r\nCall-ID: l3@192.0.2.4\r\nCSeq: 1 OPTIONS\r\nSubject: \xff\r\nContent-Length: 0\r\n\r\n', 'latin1'),
  ]);
  const message = parseMessage(wire);
  assert.equal(message.headerEncoding, 'latin1');
  // U+010D and U+010A have the low bytes of CR and LF: Latin-1 encoding keeps only the low byte.
  message.addHeader('Subject', 'x\u010d\u010aRoute: <sip:attacker.example;lr>');
  message.addHeader('X-Name', 'Dvo\u0159\u00e1k \u20ac');
  const out = serializeMessage(message);
  const back = parseMessage(out);
  assert.deepEqual(back.routes(), [], 'no Route was injected');
  assert.equal(back.fields('subject').length, 2);
  // The received field is still written byte for byte.
  assert.ok(out.includes(Buffer.from('\r\nSubject: \xff\r\n', 'latin1')));
  // Characters that Latin-1 cannot hold are written as UTF-8.
  assert.ok(out.includes(Buffer.from('x\u010d\u010aRoute', 'utf8')));
  assert.ok(out.includes(Buffer.from('\u0159', 'utf8')));
  assert.ok(out.includes(Buffer.from('\u20ac', 'utf8')));
});
