import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectMessage, parseMessage } from './parse-message.js';
import { bitPosition, HEADER_BIT, TRACKED_HEADERS, trackedHeaderBits } from './header-names.js';
import { newTrackedFields } from './message.js';

// The splitter notes where the tracked headers are; their bits, positions and the record's size
// all come from TRACKED_HEADERS. A seventh one (Max-Forwards) once made every message carrying
// it fail as SIP_ERR_BODY_TRUNCATED: its bit spilled into a packed end-of-header offset.

const WITH_BODY = (maxForwards: string): Buffer =>
  Buffer.from(
    'MESSAGE sip:b@b.example SIP/2.0\r\n' +
      'Via: SIP/2.0/TLS h.example;branch=z9hG4bK1\r\n' +
      `${maxForwards}` +
      'From: <sip:a@b.example>;tag=1\r\n' +
      'To: <sip:b@b.example>\r\n' +
      'Call-ID: c1\r\n' +
      'CSeq: 1 MESSAGE\r\n' +
      'Content-Type: text/plain\r\n' +
      'Content-Length: 5\r\n\r\nhello',
  );

test('every tracked header has its own bit and a slot in the record, from the one list', () => {
  assert.deepEqual(Object.keys(HEADER_BIT), [...TRACKED_HEADERS]);
  TRACKED_HEADERS.forEach((key, i) => assert.equal(bitPosition(HEADER_BIT[key]), i, key));
  assert.equal(newTrackedFields().first.length, TRACKED_HEADERS.length);
});

test('a tracked-header list that cannot work fails when it is built, with a clear error', () => {
  const many = Array.from({ length: 32 }, (_, i) => `x-h${i}`);
  assert.throws(() => trackedHeaderBits(many), /32 tracked headers; their bits fit 31 at most/);
  assert.equal(trackedHeaderBits(many.slice(0, 31))['x-h30'], 1 << 30);
  assert.throws(() => trackedHeaderBits(['via', 'to', 'via']), /listed twice/);
  assert.throws(() => trackedHeaderBits(['Via']), /not a key/);
  assert.throws(() => trackedHeaderBits(['v']), /not a key/);
});

test('Max-Forwards is tracked: a message carrying it is framed and read right', () => {
  for (const spelling of ['Max-Forwards: 70\r\n', 'max-forwards: 70\r\n', 'Max-Forwards:  70\r\n']) {
    for (const depth of ['full', 'lazy'] as const) {
      const message = parseMessage(WITH_BODY(spelling), { depth });
      assert.equal(Buffer.from(message.body).toString(), 'hello', spelling);
      assert.equal(message.maxForwards(), 70);
      assert.equal(message.callId(), 'c1');
    }
  }
  assert.equal(parseMessage(WITH_BODY('')).maxForwards(), undefined);
});

test('a repeated Max-Forwards is a duplicate for the full parse, wherever the repeat is', () => {
  const result = inspectMessage(WITH_BODY('Max-Forwards: 70\r\nMax-Forwards: 69\r\n'));
  assert.equal(result.ok, false);
  assert.deepEqual(result.ok ? [] : result.faults.map((f) => [f.code, f.header]), [['SIP_ERR_DUPLICATE_HEADER', 'max-forwards']]);
});
