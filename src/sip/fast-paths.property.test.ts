import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SIP_LIMITS } from '../limits.js';
import type { SipFault } from './errors.js';
import type { HeaderField } from './message.js';
import { HeaderScanner, scanSimpleParams } from './header-scanner.js';
import { splitHeaderFields, splitPlainFields } from './parse-message.js';
import { extractTag, parseNameAddr, parseNameAddrByGrammar, parsePlainNameAddr, tagOf } from './name-addr.js';
import { isPlainCallId, parseBoundedInt, parseBoundedIntByGrammar, parseCallId, parseCallIdByGrammar, parseCSeq, parseCSeqByGrammar, parseOptionTags, parsePlainCSeq } from './scalar-headers.js';
import { newTrackedFields, SipRequest } from './message.js';
import { parsePlainSipUri, parseUri } from './uri.js';
import { SipParseError } from './errors.js';
import { classifyHost, scanHost, scannedHostEnd, scannedHostIsIpv4 } from './host.js';
import { HEADER_BIT, headerBit } from './header-names.js';

// The hand-written fast paths must give what the general readers give, or decline. A fast path
// that declined everything would pass that vacuously: each test also counts how often its fast
// path took the generated input and asserts a floor, about half the rate seen when it was written.

/** Counts how often a fast path took its input, and fails below `floor` (a fraction of the runs). */
function acceptance(what: string, floor: number): { note: (took: boolean) => void; check: () => void } {
  let runs = 0;
  let taken = 0;
  return {
    note: (took) => {
      runs++;
      if (took) taken++;
    },
    check: () => assert.ok(runs > 0 && taken / runs >= floor, `${what}: the fast path took ${taken} of ${runs} inputs, below ${floor * 100}%`),
  };
}

/**
 * text's codes placed at an offset in a larger buffer and followed by a CR, as a message's bytes
 * hold a field value while it is parsed: the fast paths must read `codes[at + i]`, never `codes[i]`.
 */
function placed(text: string): { codes: Uint8Array; at: number } {
  const at = 3;
  return { codes: Buffer.from(`a;b${text}\r\n`, 'latin1'), at };
}

// The least share of generated inputs each fast path must take: about half the share seen when
// the floors were set (splitter 25%, parameters 26%, CSeq 12%, Call-ID 39%, name-addr 11%, host
// 57%, URI 40% of 3000 to 5000 runs), far below it for any seed.
const RATE = { splitter: 0.12, params: 0.12, cseq: 0.06, callId: 0.19, nameAddr: 0.05, host: 0.28, uri: 0.2 };

// Known spellings, and names the name automaton must not take for one: prefixes, extensions,
// other cases, a byte that is not a token character inside.
const fieldName = fc.constantFrom('Via', 'via', 'v', 'V', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm',
  'Max-Forwards', 'Content-Length', 'l', 'Subject', 'X-Custom', 'Vi', 'ViaX', 'CALL-ID', 'Toe', 'WWW-Authenticate', 'é',
  'Content-', 'Contacts', 'VIA', 'Content-Lengt', 'Con\u00e9tact', 'Cont act', 'Proxy-Require-X');
const fieldValue = fc.stringMatching(/^[ -~]{0,45}$/);
// Weighted to the plain form so that most sections take the fast path and some decline.
const separator = fc.oneof({ arbitrary: fc.constant(': '), weight: 12 }, fc.constantFrom(':', ' : ', ':  ', ':\t'));
const lineEnd = fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 12 }, fc.constantFrom('\n', '\r', '\r\n ', '\r\n\t'));
const section = fc
  .array(fc.tuple(fieldName, separator, fieldValue, lineEnd), { minLength: 1, maxLength: 8 })
  .map((fields) => fields.map(([n, sep, v, end]) => `${n}${sep}${v}${end}`).join('').replace(/[\r\n ]+$/, ''));

test('the plain header splitter agrees with the general one, or declines', () => {
  const rate = acceptance('splitPlainFields', RATE.splitter);
  fc.assert(
    fc.property(section, fc.integer({ min: 1, max: 10 }), (head, maxHeaderCount) => {
      const limits = { ...SIP_LIMITS, maxHeaderCount, maxLineBytes: 48 };
      const plain: HeaderField[] = [];
      const { codes, at } = placed(head);
      const tracked = newTrackedFields();
      const stop = splitPlainFields(head, 0, plain, limits, codes, at, undefined, false, tracked);
      rate.note(stop >= 0);
      if (stop < 0) return;
      const general: HeaderField[] = [];
      const faults: SipFault[] = [];
      splitHeaderFields(head, 0, general, faults, limits);
      assert.deepEqual(faults, []);
      assert.deepEqual(plain, general);
      assert.equal(stop, head.length);
      assert.equal(tracked.present, general.reduce((bits, h) => bits | headerBit(h.key), 0));
      // The first field of each tracked header, and which appear more than once.
      for (const [position, bit] of Object.values(HEADER_BIT).entries()) {
        const fields = general.flatMap((h, i) => (headerBit(h.key) === bit ? [i] : []));
        assert.equal(tracked.first[position], fields[0] ?? -1);
        assert.equal((tracked.repeated & bit) !== 0, fields.length > 1);
      }
    }),
    { numRuns: 3000 },
  );
  rate.check();
});

test('the plain header splitter takes the form nearly every message uses', () => {
  const head = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nX-Empty: \r\nl: 0';
  const plain: HeaderField[] = [];
  const { codes, at } = placed(head);
  const valueAt: number[] = [];
  // The bits of the headers seen: Via and Content-Length.
  const tracked = newTrackedFields();
  assert.equal(splitPlainFields(head, 0, plain, SIP_LIMITS, codes, at, valueAt, false, tracked), head.length);
  // Where the tracked headers are: Via first, Content-Length third, none repeated.
  assert.deepEqual(tracked, { first: [-1, -1, -1, -1, 0, 2, -1], repeated: 0, present: HEADER_BIT.via | HEADER_BIT['content-length'] });
  // Where each value starts in the codes, the offset of the head among them included.
  assert.deepEqual(valueAt, [at + 5, at + 45, at + 50]);
  assert.deepEqual(plain, [
    { name: 'Via', key: 'via', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
    { name: 'X-Empty', key: 'x-empty', value: '' },
    { name: 'l', key: 'content-length', value: '0' },
  ]);
});

const paramText = fc
  .array(fc.tuple(fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{0,4}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~:[\] ;=]{0,5}$/), { nil: undefined })), { maxLength: 4 })
  .map((params) => params.map(([name, value]) => `;${name}${value === undefined ? '' : `=${value}`}`).join(''));

test('the simple parameter scanner agrees with the grammar, or declines', () => {
  const rate = acceptance('scanSimpleParams', RATE.params);
  fc.assert(
    fc.property(fc.string({ maxLength: 3 }), paramText, fc.string({ maxLength: 3 }), (before, text, after) => {
      const whole = `${before}${text}${after}`;
      const { codes, at } = placed(whole);
      const scanned = scanSimpleParams(whole, codes, at, before.length, before.length + text.length);
      rate.note(scanned !== undefined);
      if (scanned === undefined) return;
      const grammar = new HeaderScanner(text, 'via');
      assert.deepEqual(scanned, grammar.params(), text);
      assert.ok(grammar.atEnd(), text);
    }),
    { numRuns: 3000 },
  );
  rate.check();
});

/** Both outcomes of a parse: the value, or the error it threw. */
function outcome<T>(parse: () => T): { value: T } | { error: string } {
  try {
    return { value: parse() };
  } catch (err) {
    return { error: err instanceof SipParseError ? `${err.code} ${err.header} ${err.detail}` : String(err) };
  }
}

const noisy = (chars: string, maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));

test('the plain CSeq reader agrees with the grammar', () => {
  const cseq = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 + 5 }), fc.constantFrom('INVITE', 'ACK', 'FOO', 'x')).map(([n, m]) => `${n} ${m}`),
    noisy('0123456789 \tABCa-', 14),
  );
  const rate = acceptance('parsePlainCSeq', RATE.cseq);
  fc.assert(
    fc.property(cseq, (text) => {
      const grammar = outcome(() => parseCSeqByGrammar(text));
      assert.deepEqual(outcome(() => parseCSeq(text)), grammar);
      const { codes, at } = placed(text);
      const plain = parsePlainCSeq(text, codes, at);
      rate.note(plain !== undefined);
      if (plain !== undefined) assert.deepEqual({ value: plain }, grammar);
    }),
    { numRuns: 3000 },
  );
  rate.check();
});

test('the plain integer reader agrees with the grammar', () => {
  const digits = fc.oneof(fc.nat().map(String), fc.integer({ min: 0, max: 2 ** 33 }).map(String), noisy('0123456789 x', 12));
  fc.assert(
    fc.property(digits, fc.constantFrom(255, 0xffff_ffff), (text, max) => {
      assert.deepEqual(outcome(() => parseBoundedInt(text, max, 'expires')), outcome(() => parseBoundedIntByGrammar(text, max, 'expires')));
    }),
    { numRuns: 3000 },
  );
});

test('the plain Call-ID check agrees with the grammar', () => {
  const callId = noisy('ab09@.-!%*_+`\'~()<>:\\"/[]?{} \t;,é', 16);
  const rate = acceptance('isPlainCallId', RATE.callId);
  fc.assert(
    fc.property(callId, (text) => {
      const grammar = outcome(() => parseCallIdByGrammar(text));
      assert.deepEqual(outcome(() => parseCallId(text)), grammar);
      const { codes, at } = placed(text);
      const plain = isPlainCallId(codes, at, text.length);
      rate.note(plain);
      if (plain) assert.deepEqual({ value: text }, grammar);
    }),
    { numRuns: 3000 },
  );
  rate.check();
});

test('the tag reader agrees with the name-addr grammar wherever that accepts', () => {
  const value = fc
    .tuple(fc.constantFrom('', '"A; b" ', 'Bob ', '"x\\"y" '), fc.constantFrom('<sip:a@b;tag=u>', '<sip:h>', 'sip:a@h'), noisy(';tag=TAG xy"[]:,', 14))
    .map(([d, u, p]) => `${d}${u}${p}`);
  fc.assert(
    fc.property(value, (text) => {
      let expected: string | undefined;
      try {
        expected = tagOf(parseNameAddrByGrammar(text, 'from'));
      } catch {
        return;
      }
      assert.equal(extractTag(text, 'from'), expected);
    }),
    { numRuns: 3000 },
  );
});

test('the name-addr fast path with quoted parameter values agrees with the grammar', () => {
  const value = fc
    .tuple(fc.constantFrom('', '"A; b" ', 'Bob '), fc.constantFrom('<sip:a@b;transport=tls>', '<sips:h:5061>'), noisy(';+sip.instance="<urn:x>"q=\\ ', 30))
    .map(([d, u, p]) => `${d}${u}${p}`);
  const rate = acceptance('parsePlainNameAddr', RATE.nameAddr);
  fc.assert(
    fc.property(value, (text) => {
      const grammar = outcome(() => parseNameAddrByGrammar(text, 'contact'));
      assert.deepEqual(outcome(() => parseNameAddr(text, 'contact')), grammar);
      const { codes, at } = placed(text);
      const plain = parsePlainNameAddr(text, codes, at);
      rate.note(plain !== undefined);
      if (plain !== undefined) assert.deepEqual({ value: plain }, grammar);
    }),
    { numRuns: 3000 },
  );
  rate.check();
});

test('the one-pass host scanner agrees with classifyHost on the run it reads', () => {
  const rate = acceptance('scanHost', RATE.host);
  fc.assert(
    fc.property(fc.oneof(noisy('ab0129.-:;Z', 14), fc.ipV4(), fc.ipV4().map((a) => `${a}.`), fc.domain()), noisy(':;>x', 2), (host, after) => {
      const text = `${host}${after}`;
      const run = /^[A-Za-z0-9.-]*/.exec(text)?.[0] ?? '';
      const kind = classifyHost(run);
      const { codes, at } = placed(text);
      const scanned = scanHost(codes, at);
      rate.note(scanned >= 0);
      if (kind === undefined) assert.equal(scanned, -1, text);
      else assert.deepEqual([scannedHostEnd(scanned) - at, scannedHostIsIpv4(scanned) ? 'ipv4' : 'domain'], [run.length, kind], text);
    }),
    { numRuns: 5000 },
  );
  rate.check();
});

test('the plain option-tag reader agrees with splitting and checking each value', () => {
  const field = noisy('ab1-., \t"<>é', 14);
  fc.assert(
    fc.property(fc.array(field, { minLength: 1, maxLength: 3 }), fc.constantFrom('supported', 'require'), (values, key) => {
      const message = new SipRequest('OPTIONS', parseUri('sip:h'), values.map((value) => ({ name: key, key, value })));
      const reference = outcome(() => parseOptionTags(message.headerValues(key), key));
      assert.deepEqual(outcome(() => (key === 'supported' ? message.supported() : message.require())), reference);
    }),
    { numRuns: 3000 },
  );
});

test('the plain sip URI reader gives the same in place as on a copy of the range', () => {
  const around = fc.oneof(noisy('a1.:;@>=-', 6), noisy('a1.:;@>=-', 6).map((t) => `>${t}`));
  const inner = fc.oneof(fc.constantFrom('sip:a@h', 'sips:b@192.0.2.1:5060;lr', 'sip:h;transport=tcp', 'sip:x'), noisy('sip:@.;=a19-', 16));
  const rate = acceptance('parsePlainSipUri', RATE.uri);
  fc.assert(
    fc.property(around, inner, around, (before, uri, after) => {
      const text = `${before}${uri}${after}`;
      const { codes, at } = placed(text);
      const inPlace = parsePlainSipUri(text, codes, at, before.length, before.length + uri.length);
      rate.note(inPlace !== undefined);
      const alone = placed(uri);
      // A part running on past the range declines; after a '>' (as in a name-addr) none can.
      if (inPlace !== undefined || after === '' || after.startsWith('>')) assert.deepEqual(inPlace, parsePlainSipUri(uri, alone.codes, alone.at, 0, uri.length));
    }),
    { numRuns: 3000 },
  );
  rate.check();
});
