import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedDetail, MAX_DETAIL_CHARS, responseForFault, SipParseError, type SipFaultCode } from './errors.js';
import { inspectMessage } from './parse-message.js';

const CODES: readonly SipFaultCode[] = [
  'SIP_ERR_EMPTY', 'SIP_ERR_MESSAGE_TOO_LARGE', 'SIP_ERR_TOO_MANY_HEADERS', 'SIP_ERR_LINE_TOO_LONG', 'SIP_ERR_TOO_MANY_VALUES',
  'SIP_ERR_NO_HEADER_END', 'SIP_ERR_BAD_START_LINE', 'SIP_ERR_BAD_VERSION', 'SIP_ERR_BAD_METHOD', 'SIP_ERR_BAD_STATUS',
  'SIP_ERR_BAD_REQUEST_URI', 'SIP_ERR_BAD_URI', 'SIP_ERR_BAD_HEADER_NAME', 'SIP_ERR_BAD_HEADER_VALUE', 'SIP_ERR_MISSING_HEADER',
  'SIP_ERR_DUPLICATE_HEADER', 'SIP_ERR_CSEQ_METHOD_MISMATCH', 'SIP_ERR_VALUE_OUT_OF_RANGE', 'SIP_ERR_BAD_CONTENT_LENGTH', 'SIP_ERR_BODY_TRUNCATED',
];

/** What a reason phrase may hold: words, spaces and a little punctuation, never a control character. */
const PHRASE = /^[A-Za-z0-9 ()\-:]{1,80}$/;

// issue-12 (2): a fault's header (an unknown header's key is the peer's token) reached the phrase.
test('issue-12: reason phrases are fixed words, naming only headers sipsec knows', () => {
  const hostile = `x-${'a'.repeat(16_000)}injected`;
  for (const code of CODES) {
    for (const header of [undefined, 'via', 'call-id', 'www-authenticate', hostile, 'x-evil\x1b[31m"\r\n']) {
      const { reason } = responseForFault({ code, header, detail: `'${hostile}' \x00\x07` }, 'INVITE');
      assert.match(reason, PHRASE, `${code} ${JSON.stringify(reason.slice(0, 100))}`);
      assert.ok(!reason.includes('injected') && !reason.includes('evil'), reason);
    }
  }
  assert.equal(responseForFault({ code: 'SIP_ERR_BAD_HEADER_VALUE', header: 'call-id', detail: '' }, 'INVITE').reason, 'Bad Request (malformed header: Call-ID)');
  assert.equal(responseForFault({ code: 'SIP_ERR_BAD_HEADER_VALUE', header: 'x-foo', detail: '' }, 'INVITE').reason, 'Bad Request (malformed header)');
});

test('issue-12: the response to a message with hostile bytes echoes none of them in its reason', () => {
  const evil = `\x1b[31m\x00\x07" injected="yes" ${'9'.repeat(60_000)}`;
  for (const fields of [`Content-Length: ${evil}`, `X-${'b'.repeat(15_000)}: a\rb`, `Max-Forwards: ${evil}`, `X-Evil\x07: 1`]) {
    const text = `INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n${fields}\r\n\r\n`;
    const result = inspectMessage(Buffer.from(text, 'latin1'), { limits: { maxLineBytes: 70_000 } });
    assert.equal(result.ok, false);
    if (result.ok) continue;
    assert.match(result.response?.reason ?? '', PHRASE);
    for (const fault of result.faults) {
      assert.ok(fault.detail.length <= MAX_DETAIL_CHARS, `${fault.code} detail of ${fault.detail.length}`);
      assert.match(fault.detail, /^[ -~]*$/);
    }
  }
});

test('a fault detail escapes what is not printable ASCII and is bounded', () => {
  assert.equal(boundedDetail('a\x00b\x1b\\c"\u00e9\u2028'), 'a\\x00b\\x1b\\x5cc\\x22\\xe9\\u{2028}');
  const long = boundedDetail('\x01'.repeat(10_000));
  assert.ok(long.length <= MAX_DETAIL_CHARS && long.endsWith('...'));
  assert.equal(boundedDetail('x'.repeat(MAX_DETAIL_CHARS)), 'x'.repeat(MAX_DETAIL_CHARS));
  const err = new SipParseError('SIP_ERR_BAD_HEADER_VALUE', `'${'\x07'.repeat(100_000)}' is not a Call-ID`, 'call-id');
  assert.ok(err.message.length < 2 * MAX_DETAIL_CHARS);
  assert.match(err.message, /^[ -~]*$/);
});
