import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toAsciiHostName } from './host-name.js';

test('IDNs become A-labels, case folds, one trailing dot goes', () => {
  for (const [input, ascii] of [
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.Example.', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com'],
    ['sip1.Example.NET', 'sip1.example.net'],
    ['localhost', 'localhost'],
  ] as const) assert.deepEqual(toAsciiHostName(input), { ok: true, ascii }, input);
});

test('what is not a host name is refused with the reason', () => {
  for (const [input, why] of [
    ['192.0.2.1', /IP address/],
    ['[::1]', /IP address/],
    ['::1', /IP address/],
    ['1.2.3', /numeric label/],
    ['a b.example', /IDNA refuses/],
    ['-x.example', /letters, digits and inner hyphens/],
    ['a_b.example', /letters, digits and inner hyphens/],
    ['a..b', /empty label/],
    ['', /empty/],
    [`${'a'.repeat(64)}.example`, /longer than 63/],
    [`${'abcdefgh.'.repeat(30)}example`, /longer than 253/],
  ] as const) {
    const r = toAsciiHostName(input);
    assert.equal(r.ok, false, input);
    assert.match(r.ok ? '' : r.why, why, input);
  }
});
