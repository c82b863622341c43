import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inspectMessage } from './parse-message.js';
import { checkParse } from '../../test/support/parse-oracle.js';
import { validRequest } from '../../test/support/sip-arbitraries.js';

/** Bytes that the grammar or a hostile peer puts where white space may go, and that .trim() took. */
const SPACE_LIKE = [0x20, 0x09, 0xa0, 0x0b, 0x0c, 0x0d, 0x0a, 0x00, 0x85, 0x2c, 0x22, 0x3b];

// issue-12 (7): .trim() in the full parse's Via and header readers stripped 0xA0, VT and FF.
test('issue-12: a Via with 0xA0, VT or FF for white space is rejected by the full and the lazy parse alike', () => {
  for (const space of ['\xa0', '\x0b', '\x0c']) {
    for (const via of [`${space}SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP h2`, `SIP/2.0/UDP h;branch=z9hG4bK1${space}, SIP/2.0/UDP h2`, `SIP/2.0/UDP h;branch=z9hG4bK1,${space}SIP/2.0/UDP h2`]) {
      for (const colon of [': ', ':  ']) {
        const text = `OPTIONS sip:a@b SIP/2.0\r\nVia${colon}${via}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContact: ${space}*\r\n\r\n`;
        const bytes = Buffer.from(text, 'latin1');
        assert.equal(inspectMessage(bytes).ok, false, JSON.stringify(text));
        checkParse(bytes);
      }
    }
  }
});

test('issue-12: a quoted comma in the top Via is one value for the lazy parse as for the full one', () => {
  const bytes = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;x="a,b";branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n');
  assert.equal(inspectMessage(bytes, { depth: 'lazy' }).ok, true);
  assert.equal(checkParse(bytes), true);
});

test('the full and the lazy parse agree on generated messages, and on their mutations', () => {
  fc.assert(
    fc.property(
      validRequest,
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SPACE_LIKE), fc.integer({ min: 0, max: 255 })), fc.constantFrom('set', 'insert', 'delete')), { maxLength: 6 }),
      (bytes, edits) => {
        let mutated = Buffer.from(bytes);
        for (const [at, value, how] of edits) {
          const i = at % (mutated.length + 1);
          if (how === 'set' && i < mutated.length) mutated[i] = value;
          else if (how === 'insert') mutated = Buffer.concat([mutated.subarray(0, i), Buffer.of(value), mutated.subarray(i)]);
          else mutated = Buffer.concat([mutated.subarray(0, i), mutated.subarray(i + 1)]);
        }
        checkParse(mutated);
      },
    ),
    { numRuns: 3000 },
  );
});
