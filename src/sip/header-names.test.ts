import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderName, headerKey, knownHeaderKeyAt } from './header-names.js';

test('compact and long forms, any case, give one key', () => {
  assert.equal(headerKey('v'), 'via');
  assert.equal(headerKey('V'), 'via');
  assert.equal(headerKey('VIA'), 'via');
  assert.equal(headerKey('i'), 'call-id');
  assert.equal(headerKey('MaX-fOrWaRdS'), 'max-forwards');
  assert.equal(headerKey('C%6Fntact'), 'c%6fntact');
  assert.equal(canonicalHeaderName('call-id'), 'Call-ID');
  assert.equal(canonicalHeaderName('record-route'), 'Record-Route');
});

test('the in-place key reader agrees with headerKey or declines', () => {
  const names = ['Via', 'via', 'v', 'V', 'From', 'f', 'To', 't', 'Call-ID', 'call-id', 'i', 'CSeq', 'cseq', 'Contact', 'm',
    'Max-Forwards', 'Content-Length', 'l', 'Content-Type', 'c', 'k', 'Supported', 'X-Custom', 'Vi', 'ViaX', 'CALL-ID', 'Toe'];
  for (const name of names) {
    const head = `xx${name}: value`;
    const key = knownHeaderKeyAt(head, 2, 2 + name.length);
    if (key !== undefined) assert.equal(key, headerKey(name), name);
  }
  assert.equal(knownHeaderKeyAt('Via: x', 0, 3), 'via');
  assert.equal(knownHeaderKeyAt('X-Custom: x', 0, 8), undefined);
});
