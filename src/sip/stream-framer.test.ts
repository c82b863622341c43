import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingError, StreamFramer, type FramedItem } from './stream-framer.js';
import { parseMessage } from './parse-message.js';

const OPTIONS = (n: number, body = ''): string =>
  `OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h.example.com;branch=z9hG4bK${n}\r\n` +
  `From: <sip:a@example.com>;tag=${n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: c${n}\r\nCSeq: ${n} OPTIONS\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function kinds(items: FramedItem[]): string[] {
  return items.map((i) => (i.type === 'message' ? `message:${parseMessage(i.bytes, { framing: 'stream' }).callId()}` : i.type === 'framing-error' ? `error:${i.error.code}` : i.type));
}

/** The framing error a push ends with, if any. */
function framingError(items: FramedItem[]): FramingError | undefined {
  const last = items[items.length - 1];
  return last?.type === 'framing-error' ? last.error : undefined;
}

test('pipelined messages in one read come out one by one', () => {
  const framer = new StreamFramer();
  assert.deepEqual(kinds(framer.push(Buffer.from(OPTIONS(1) + OPTIONS(2, 'hello') + OPTIONS(3)))), ['message:c1', 'message:c2', 'message:c3']);
  assert.equal(framer.bufferedBytes, 0);
});

test('a message split at every byte is framed once, with its body', () => {
  const framer = new StreamFramer();
  const bytes = Buffer.from(OPTIONS(7, 'v=0\r\n'));
  const items: FramedItem[] = [];
  for (let i = 0; i < bytes.length; i++) items.push(...framer.push(bytes.subarray(i, i + 1)));
  assert.equal(items.length, 1);
  const [item] = items;
  assert.ok(item?.type === 'message');
  assert.equal(parseMessage(item.bytes, { framing: 'stream' }).body.toString(), 'v=0\r\n');
});

test('RFC 5626 keep-alives: CRLFCRLF is a ping, CRLF a pong, even split across reads', () => {
  const framer = new StreamFramer();
  assert.deepEqual(kinds(framer.push(Buffer.from('\r\n\r\n'))), ['ping']);
  assert.deepEqual(kinds(framer.push(Buffer.from('\r\n'))), ['pong']);
  assert.deepEqual(kinds(framer.push(Buffer.from('\r\n'))), ['ping']);
  assert.deepEqual(kinds(framer.push(Buffer.from(`\r\n${OPTIONS(4)}`))), ['pong', 'message:c4']);
});

test('framing is lost without a usable Content-Length, and the head is kept for a 400', () => {
  for (const [head, code] of [
    ['OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n', 'SIP_ERR_MISSING_HEADER'],
    ['OPTIONS sip:x SIP/2.0\r\nContent-Length: -999\r\n\r\n', 'SIP_ERR_BAD_CONTENT_LENGTH'],
    ['OPTIONS sip:x SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\n', 'SIP_ERR_BAD_CONTENT_LENGTH'],
  ] as const) {
    const err = framingError(new StreamFramer().push(Buffer.from(head)));
    assert.ok(err instanceof FramingError);
    assert.equal(err.code, code);
    assert.equal(err.head?.toString('latin1'), head);
  }
});

test('messages framed before a framing error in the same read are not lost; nothing is read after it', () => {
  const framer = new StreamFramer();
  const items = framer.push(Buffer.from(`${OPTIONS(1)}OPTIONS sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n${OPTIONS(2)}`));
  assert.deepEqual(kinds(items), ['message:c1', 'error:SIP_ERR_BAD_CONTENT_LENGTH']);
  assert.deepEqual(framer.push(Buffer.from(OPTIONS(3))), []);
  assert.equal(framer.failed?.code, 'SIP_ERR_BAD_CONTENT_LENGTH');
});

test('limits are enforced as bytes arrive, before a whole message is buffered', () => {
  const framer = new StreamFramer({ maxHeaderSectionBytes: 100 });
  assert.deepEqual(framer.push(Buffer.from('OPTIONS sip:x SIP/2.0\r\n')), []);
  assert.equal(framingError(framer.push(Buffer.alloc(200, 0x41)))?.code, 'SIP_ERR_MESSAGE_TOO_LARGE');
  const small = new StreamFramer({ maxMessageBytes: 300 });
  assert.equal(framingError(small.push(Buffer.from(OPTIONS(1).replace('Content-Length: 0', 'Content-Length: 100000'))))?.code, 'SIP_ERR_MESSAGE_TOO_LARGE');
});

test('the caller may reuse its read buffer: the framer keeps nothing of it', () => {
  const framer = new StreamFramer();
  const second = Buffer.from(OPTIONS(2, 'body'));
  const read = Buffer.concat([Buffer.from(OPTIONS(1)), second.subarray(0, 40)]);
  const first = framer.push(read);
  // A transport that reads into one buffer overwrites it before the next read.
  read.fill(0x21);
  assert.equal(first.length, 1);
  const message = first[0];
  assert.ok(message?.type === 'message');
  assert.equal(parseMessage(message.bytes, { framing: 'stream' }).callId(), 'c1');
  assert.equal(framer.bufferedBytes, 40);
  assert.deepEqual(kinds(framer.push(second.subarray(40))), ['message:c2']);
});

test('a Content-Length in any spelling, and repeated ones, frame as the grammar reads them', () => {
  const head = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n';
  for (const [fields, expected] of [
    ['l: 5\r\n', ['message']],
    ['CONTENT-LENGTH: 5\r\n', ['message']],
    ['Content-Length:   5\r\n', ['message']],
    ['Content-Length: 5\r\nl: 5\r\n', ['message']],
    ['Content-Length: 5\r\nl: 4\r\n', ['error:SIP_ERR_BAD_CONTENT_LENGTH']],
    ['Content-Length: 5x\r\n', ['error:SIP_ERR_BAD_CONTENT_LENGTH']],
    ['X-Length: 5\r\n', ['error:SIP_ERR_MISSING_HEADER']],
  ] as const) {
    const framer = new StreamFramer();
    const items = framer.push(Buffer.from(`${head}${fields}\r\nhello`));
    // The framer needs one usable length; a repeated field is the parser's to reject.
    assert.deepEqual(items.map((i) => (i.type === 'framing-error' ? `error:${i.error.code}` : i.type)), expected, fields);
    const message = items[0];
    if (message?.type === 'message') assert.equal(message.bytes.subarray(-5).toString(), 'hello', fields);
  }
});
