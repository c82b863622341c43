import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectMessage } from './parse-message.js';

const request = (extra: string): Buffer => Buffer.from(
  'INVITE sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n' +
  `To: <sip:b@example.net>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`, 'latin1');

// A proxy forwards what it accepts: NUL, ESC or BEL in an unknown header reached the next hop.
test('a control character in a header value is refused, in full and lazy parses, in ASCII and UTF-8 messages', () => {
  for (const extra of ['X-A: a\x00b\r\n', 'Subject: \x1b[31mred\r\n', 'Subject: ring\x07\r\n', 'X-Del: a\x7fb\r\n', 'Subject: caf\u00e9 \x00\r\n']) {
    for (const depth of ['full', 'lazy'] as const) {
      const result = inspectMessage(Buffer.from(request(extra).toString('latin1'), extra.includes('\u00e9') ? 'utf8' : 'latin1'), { depth });
      assert.equal(result.ok, false, `${JSON.stringify(extra)} ${depth}`);
      if (!result.ok) {
        assert.deepEqual(result.faults.map((f) => f.code), ["SIP_ERR_BAD_HEADER_VALUE"], JSON.stringify(result.faults));
        assert.equal(result.response?.status, 400);
      }
    }
  }
});

test('HTAB stays allowed, and a clean message is unaffected', () => {
  for (const extra of ['Subject: tab\there\r\n', '', 'Subject: caf\u00e9\r\n']) {
    assert.equal(inspectMessage(Buffer.from(request(extra).toString('latin1'), 'utf8')).ok, true, JSON.stringify(extra));
  }
});

test('a control character in a reason phrase is a bad start line', () => {
  const response = Buffer.from('SIP/2.0 200 O\x07K\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n' +
    'To: <sip:b@example.net>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n', 'latin1');
  const result = inspectMessage(response);
  assert.equal(result.ok, false);
  if (!result.ok) assert.deepEqual(result.faults.map((f) => f.code), ['SIP_ERR_BAD_START_LINE']);
});

test('a control character escaped in a quoted string is a quoted-pair, and allowed (RFC 4475 intmeth)', () => {
  assert.equal(inspectMessage(request('Subject: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"\r\n')).ok, true);
  for (const extra of ['Subject: "BEL:\x07"\r\n', 'Subject: "a" \\\x07\r\n', 'Subject: "\\"\x00"\r\n']) {
    assert.equal(inspectMessage(request(extra)).ok, false, JSON.stringify(extra));
  }
});

test('every position and every control byte is found, whatever the alignment of the buffer', () => {
  const clean = request('Subject: hello world\r\n');
  for (const offset of [0, 1, 2, 3]) {
    for (let p = 0; p < clean.length - 4; p += 1) {
      for (const bad of [0, 1, 7, 8, 11, 12, 14, 27, 31, 127]) {
        const backing = Buffer.alloc(clean.length + offset);
        clean.copy(backing, offset);
        backing[offset + p] = bad;
        const result = inspectMessage(backing.subarray(offset), { depth: 'lazy' });
        assert.equal(result.ok, false, `offset ${offset}, byte 0x${bad.toString(16)} at ${p}`);
      }
    }
  }
  for (const fine of [9, 32, 126, 128, 255]) {
    const text = request(`Subject: a${String.fromCharCode(fine)}b\r\n`);
    assert.equal(inspectMessage(Buffer.from(text.toString('latin1'), 'latin1')).ok, true, `0x${fine.toString(16)}`);
  }
});
