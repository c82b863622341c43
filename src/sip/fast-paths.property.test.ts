import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SIP_LIMITS } from '../limits.js';
import type { SipFault } from './errors.js';
import type { HeaderField } from './message.js';
import { scanSimpleParams, SIMPLE_PARAMS, splitSimpleParams } from './header-scanner.js';
import { splitHeaderFields, splitPlainFields } from './parse-message.js';

// The hand-written fast paths must give what the general readers give, or decline.

const fieldName = fc.constantFrom('Via', 'via', 'v', 'V', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm',
  'Max-Forwards', 'Content-Length', 'l', 'Subject', 'X-Custom', 'Vi', 'ViaX', 'CALL-ID', 'Toe', 'WWW-Authenticate', 'é');
const fieldValue = fc.stringMatching(/^[ -~]{0,20}$/);
// Weighted to the plain form so that most sections take the fast path and some decline.
const separator = fc.oneof({ arbitrary: fc.constant(': '), weight: 12 }, fc.constantFrom(':', ' : ', ':  ', ':\t'));
const lineEnd = fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 12 }, fc.constantFrom('\n', '\r', '\r\n ', '\r\n\t'));
const section = fc
  .array(fc.tuple(fieldName, separator, fieldValue, lineEnd), { minLength: 1, maxLength: 8 })
  .map((fields) => fields.map(([n, sep, v, end]) => `${n}${sep}${v}${end}`).join('').replace(/[\r\n ]+$/, ''));

test('the plain header splitter agrees with the general one, or declines', () => {
  fc.assert(
    fc.property(section, fc.integer({ min: 1, max: 10 }), (head, maxHeaderCount) => {
      const limits = { ...SIP_LIMITS, maxHeaderCount, maxLineBytes: 30 };
      const plain: HeaderField[] = [];
      if (!splitPlainFields(head, 0, plain, limits)) return;
      const general: HeaderField[] = [];
      const faults: SipFault[] = [];
      splitHeaderFields(head, 0, general, faults, limits);
      assert.deepEqual(faults, []);
      assert.deepEqual(plain, general);
    }),
    { numRuns: 3000 },
  );
});

test('the plain header splitter takes the form nearly every message uses', () => {
  const head = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nX-Empty: \r\nl: 0';
  const plain: HeaderField[] = [];
  assert.ok(splitPlainFields(head, 0, plain, SIP_LIMITS));
  assert.deepEqual(plain, [
    { name: 'Via', key: 'via', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
    { name: 'X-Empty', key: 'x-empty', value: '' },
    { name: 'l', key: 'content-length', value: '0' },
  ]);
});

const paramText = fc
  .array(fc.tuple(fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{0,4}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~:[\] ;=]{0,5}$/), { nil: undefined })), { maxLength: 4 })
  .map((params) => params.map(([name, value]) => `;${name}${value === undefined ? '' : `=${value}`}`).join(''));

test('the simple parameter scanner agrees with SIMPLE_PARAMS and its splitter, or declines', () => {
  const simple = new RegExp(`^${SIMPLE_PARAMS}$`);
  fc.assert(
    fc.property(fc.string({ maxLength: 3 }), paramText, fc.string({ maxLength: 3 }), (before, text, after) => {
      const whole = `${before}${text}${after}`;
      const scanned = scanSimpleParams(whole, before.length, before.length + text.length);
      if (scanned === undefined) return;
      assert.ok(simple.test(text), text);
      assert.deepEqual(scanned, splitSimpleParams(text));
    }),
    { numRuns: 3000 },
  );
});
