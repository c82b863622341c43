import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderName, headerKey, knownHeaderAt, knownHeaderKeyAt, NAME_ACCEPT, NAME_CLASS, NAME_CLASS_BITS, NAME_START, NAME_STEP, NAME_UNKNOWN } from './header-names.js';

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
  // A character past a byte is no token character, whatever its low byte (0x69 is 'i').
  assert.equal(knownHeaderKeyAt('V\u0169a', 0, 3), undefined);
  assert.equal(headerKey('V\u0169a'), 'v\u0169a');
});

test('one recogniser: headerKey, the in-place reader and the splitter\'s automaton give one answer for every known spelling', () => {
  const spellings = NAME_ACCEPT.flatMap((k) => (k === undefined ? [] : [k]));
  for (const known of spellings) {
    assert.equal(knownHeaderAt(known.spelling, 0, known.spelling.length), known, known.spelling);
    assert.equal(headerKey(known.spelling), known.key, known.spelling);
    assert.equal(walk(known.spelling).key, known.key, known.spelling);
  }
  // The compact forms of the common names are known spellings; the rare ones are keyed by rule.
  assert.equal(knownHeaderAt('o', 0, 1)?.key, 'event');
  assert.equal(knownHeaderAt('x', 0, 1), undefined);
  assert.equal(headerKey('x'), 'session-expires');
  assert.equal(headerKey('X'), 'session-expires');
  assert.equal(canonicalHeaderName('mime-version'), 'MIME-Version');
  assert.equal(canonicalHeaderName('www-authenticate'), 'WWW-Authenticate');
  assert.equal(canonicalHeaderName('session-expires'), 'Session-Expires');
});

/** Runs the name automaton over a name followed by ':' as the splitter does: where it stops, and what it recognised. */
function walk(name: string): { end: number; spelling: string | undefined; key: string | undefined } {
  const codes = Buffer.from(`${name}:`, 'latin1');
  let state = NAME_START;
  let i = 0;
  const step = (s: number, c: number): number => NAME_STEP[s | (NAME_CLASS[c] as number)] as number;
  for (let to = step(state, codes[i] as number); to >= 0; to = step(state, codes[i] as number)) {
    state = to;
    i++;
  }
  const known = NAME_ACCEPT[state >> NAME_CLASS_BITS];
  return { end: i, spelling: known?.spelling, key: known?.key };
}

test('the name automaton recognises exactly the known spellings and stops where the token ends', () => {
  for (const name of ['Via', 'via', 'v', 'V', 'Call-ID', 'call-id', 'i', 'I', 'Content-Length', 'l', 'L', 'WWW-Authenticate', 'Proxy-Require', 'proxy-authorization']) {
    assert.deepEqual(walk(name), { end: name.length, spelling: name, key: headerKey(name) }, name);
  }
  // Every spelling the automaton holds, and every proper prefix of one that is not itself known.
  const known = new Set(NAME_ACCEPT.flatMap((k) => (k === undefined ? [] : [k.spelling])));
  assert.ok(known.size > 60, `${known.size} spellings`);
  for (const spelling of known) {
    assert.deepEqual(walk(spelling), { end: spelling.length, spelling, key: headerKey(spelling) }, spelling);
    for (let n = 1; n < spelling.length; n++) {
      const prefix = spelling.slice(0, n);
      if (!known.has(prefix)) assert.equal(walk(prefix).spelling, undefined, prefix);
    }
    assert.equal(walk(`${spelling}x`).spelling, undefined, `${spelling}x`);
  }
  // Unknown tokens: prefixes and extensions of known names, other cases, other names.
  for (const name of ['Vi', 'Vias', 'VIA', 'Content-', 'Content-Lengths', 'CALL-ID', 'X-Custom', 'Proxy-', 'q']) {
    assert.deepEqual(walk(name), { end: name.length, spelling: undefined, key: undefined }, name);
  }
  // A byte that is no token character ends the name there, known or not.
  assert.equal(walk('Via Foo').end, 3);
  assert.equal(walk('Vi\u00e9a').end, 2);
  assert.equal(walk('').end, 0);
  // The unknown state keeps token bytes and ends at any other.
  for (const [c, next] of [[0x61, NAME_UNKNOWN], [0x7e, NAME_UNKNOWN], [0x3a, -1], [0xe9, -1], [0x20, -1], [0, -1]] as const) {
    assert.equal(NAME_STEP[NAME_UNKNOWN | (NAME_CLASS[c] as number)], next, `byte ${c}`);
  }
});
