import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WsFrameTracker } from './ws-frame-tracker.js';

/** A masked client frame (RFC 6455 section 5.2) with the given first byte and payload length. */
function frame(first: number, length: number): Buffer {
  const ext = length < 126 ? Buffer.alloc(0) : length < 65_536 ? Buffer.from([length >> 8, length & 0xff]) : Buffer.from([0, 0, 0, 0, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  const len7 = length < 126 ? length : length < 65_536 ? 126 : 127;
  return Buffer.concat([Buffer.from([first, 0x80 | len7]), ext, Buffer.from([1, 2, 3, 4]), Buffer.alloc(length, 0x61)]);
}
const TEXT_FIN = 0x81;
const TEXT_MORE = 0x01;
const CONT_MORE = 0x00;
const CONT_FIN = 0x80;
const PING = 0x89;

test('whole frames: each message and each control frame outside a message ends a unit', () => {
  const t = new WsFrameTracker();
  assert.equal(t.push(Buffer.concat([frame(TEXT_FIN, 10), frame(PING, 0), frame(TEXT_FIN, 300), frame(TEXT_FIN, 70_000)])), 4);
  assert.equal(t.partial, false);
});

test('a frame read one byte at a time is partial until its last byte', () => {
  const t = new WsFrameTracker();
  const bytes = frame(TEXT_FIN, 200);
  for (let i = 0; i < bytes.length - 1; i++) {
    assert.equal(t.push(bytes.subarray(i, i + 1)), 0);
    assert.equal(t.partial, true);
  }
  assert.equal(t.push(bytes.subarray(bytes.length - 1)), 1);
  assert.equal(t.partial, false);
});

test('fragments: the message ends with its FIN frame; pings between fragments end nothing', () => {
  const t = new WsFrameTracker();
  assert.equal(t.push(Buffer.concat([frame(TEXT_MORE, 5), frame(PING, 4), frame(CONT_MORE, 0), frame(PING, 0)])), 0);
  assert.equal(t.partial, true);
  assert.equal(t.push(frame(CONT_FIN, 3)), 1);
  assert.equal(t.partial, false);
});

test('a chunk ending one message and starting the next: one unit, still partial', () => {
  const t = new WsFrameTracker();
  const two = Buffer.concat([frame(TEXT_FIN, 50), frame(TEXT_FIN, 50)]);
  assert.equal(t.push(two.subarray(0, 70)), 1);
  assert.equal(t.partial, true);
  assert.equal(t.push(two.subarray(70)), 1);
  assert.equal(t.partial, false);
});
