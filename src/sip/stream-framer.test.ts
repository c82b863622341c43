import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentLengthsByLines, FramingError, StreamFramer, type FramedItem } from './stream-framer.js';
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

// issue-12 (1): white space runs in a Content-Length the plain splitter declines took seconds.
test('issue-12: a Content-Length line with a huge white space run is read in linear time', { timeout: 120_000 }, () => {
  // Quadratic reading of 2 MB would take hours; linear takes milliseconds. A line over
  // maxLineBytes (the default here) is what the plain splitter declines.
  const run = 2_000_000;
  const limits = { maxHeaderSectionBytes: 4 * run, maxMessageBytes: 4 * run };
  for (const ws of ['\t', ' ', ' \t']) {
    const head = `OPTIONS sip:a@b SIP/2.0\r\nl: 1${ws.repeat(run / ws.length)}x\r\n\r\n`;
    const err = framingError(new StreamFramer(limits).push(Buffer.from(head)));
    assert.equal(err?.code, 'SIP_ERR_BAD_CONTENT_LENGTH');
    const ok = `OPTIONS sip:a@b SIP/2.0\r\nl:${ws.repeat(run / ws.length)}1${ws.repeat(run / ws.length)}\r\n\r\nx`;
    assert.deepEqual(new StreamFramer(limits).push(Buffer.from(ok)).map((i) => i.type), ['message']);
  }
  const values = contentLengthsByLines(Buffer.from(`A\r\nContent-Length${' '.repeat(run)}:${' '.repeat(run)}7${' '.repeat(run)}y \r\n\r\n`));
  assert.deepEqual(values.map((v) => [v.length, v[0], v[v.length - 1]]), [[run + 2, '7', 'y']]);
});

test('the line scan reads Content-Length as the grammar writes it: any case, compact, folded, bare line breaks', () => {
  const read = (text: string): string[] => contentLengthsByLines(Buffer.from(text, 'latin1'));
  assert.deepEqual(read('X\r\nCONTENT-length \t: \t 12 \t\r\nl:3\r\nL :\r\n\r\n'), ['12', '3', '']);
  assert.deepEqual(read('X\r\nContent-Length:\r\n  42\r\n\r\n'), ['42']);
  assert.deepEqual(read('X\nl: 1\rContent-Length: 2\r\nContent-Lengthy: 3\r\nlx: 4\r\n\r\n'), ['1', '2']);
  assert.deepEqual(read('l: 5\r\n\r\n'), ['5']);
});

// issue-12 (2): the raw Content-Length text reached the 400 reason phrase and the warning log.
test('issue-12: a framing error names no byte the peer sent', () => {
  const hostile = `\x1b[31m\x00\x07" injected="yes" ${'9'.repeat(70_000)}`;
  for (const fields of [`Content-Length: ${hostile}\r\n`, `Content-Length: 1\r\nl: ${hostile}\r\n`, `Content-Length:\t${hostile}\r\n`]) {
    const head = `OPTIONS sip:x SIP/2.0\r\n${fields}\r\n`;
    const err = framingError(new StreamFramer({ maxHeaderSectionBytes: 200_000, maxLineBytes: 200_000 }).push(Buffer.from(head, 'latin1')));
    assert.equal(err?.code, 'SIP_ERR_BAD_CONTENT_LENGTH');
    for (const text of [err.message, err.detail, err.response.reason]) {
      assert.match(text, /^[ -~]{1,120}$/, JSON.stringify(text.slice(0, 200)));
      assert.ok(!text.includes('injected') && !text.includes('999'), text);
    }
    assert.equal(err.response.status, 400);
  }
  const tooLarge = framingError(new StreamFramer({ maxMessageBytes: 300 }).push(Buffer.from(OPTIONS(1).replace('Content-Length: 0', 'Content-Length: 4294967295'))));
  assert.equal(tooLarge?.response.status, 513);
  assert.ok(!tooLarge.message.includes('4294967'), tooLarge.message);
});

// issue-12 (11): the buffer was copied and searched from its start on every read.
test('issue-12: a header section fed one byte at a time costs work linear in its size', { timeout: 120_000 }, () => {
  const line = `X-Filler: ${'a'.repeat(70)}\r\n`;
  const build = (bytes: number): Buffer => Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${line.repeat(Math.ceil(bytes / line.length))}Content-Length: 2\r\n\r\nok`);
  const small = build(60_000);
  const framer = new StreamFramer();
  const items: FramedItem[] = [];
  for (let i = 0; i < small.length; i++) items.push(...framer.push(small.subarray(i, i + 1)));
  assert.deepEqual(items.map((i) => i.type), ['message']);
  assert.equal(items[0]?.type === 'message' ? items[0].bytes.length : 0, small.length);
  // Each read searches the bytes it added and the three before them, and each byte is copied a
  // bounded number of times (the store doubles): a few units a byte, where searching and copying
  // from the start on every read cost about small.length / 2 a byte.
  assert.ok(framer.workBytes <= 8 * small.length, `${framer.workBytes} units of work for ${small.length} bytes`);
  // And a section so large that copying or searching from the start on every read would run for hours.
  const huge = build(3_000_000);
  const big = new StreamFramer({ maxHeaderSectionBytes: 4_000_000, maxLineBytes: 4_000_000, maxMessageBytes: 4_000_000, maxHeaderCount: 100_000 });
  let framed = 0;
  for (let i = 0; i < huge.length; i++) framed += big.push(huge.subarray(i, i + 1)).length;
  assert.equal(framed, 1);
  assert.ok(big.workBytes <= 8 * huge.length);
});

test('the end of a header section is found wherever reads cut its CRLFCRLF', () => {
  const bytes = Buffer.from(OPTIONS(9, 'abc'));
  const headEnd = bytes.indexOf('\r\n\r\n');
  for (let cut = headEnd - 2; cut <= headEnd + 5; cut++) {
    for (const step of [1, 2, 3, 7]) {
      const framer = new StreamFramer();
      const items = [...framer.push(bytes.subarray(0, cut))];
      for (let i = cut; i < bytes.length; i += step) items.push(...framer.push(bytes.subarray(i, i + step)));
      assert.deepEqual(kinds(items), ['message:c9'], `cut ${cut} step ${step}`);
      assert.equal(framer.bufferedBytes, 0);
    }
  }
});
