import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TORTURE_DIR } from '../../test/support/paths.js';
import { inspectMessage, parseMessage } from './parse-message.js';
import { serializeMessage } from './serialize-message.js';
import type { SipFaultCode } from './errors.js';
import { paramValue } from './header-scanner.js';

interface Expectation {
  /** Whether sipsec accepts the message (syntax and the RFC 3261 8.1.1 / 7.3.1 rules). */
  readonly valid: boolean;
  /** For an invalid request, the response a server sends; null for a response (dropped). */
  readonly response?: number | null;
  /** A fault code that must be among the faults reported. */
  readonly fault?: SipFaultCode;
}

// The verdicts of test/fixtures/sip-torture/INDEX.md. "valid syntax / semantic" messages parse;
// the "(reject)" ones break rules every element applies (required or single-valued headers).
const EXPECTED: Readonly<Record<string, Expectation>> = {
  'rfc4475/wsinv.dat': { valid: true },
  'rfc4475/intmeth.dat': { valid: true },
  'rfc4475/esc01.dat': { valid: true },
  'rfc4475/escnull.dat': { valid: true },
  'rfc4475/esc02.dat': { valid: true },
  'rfc4475/lwsdisp.dat': { valid: true },
  'rfc4475/longreq.dat': { valid: true },
  'rfc4475/dblreq.dat': { valid: true },
  'rfc4475/semiuri.dat': { valid: true },
  'rfc4475/transports.dat': { valid: true },
  'rfc4475/mpart01.dat': { valid: true },
  'rfc4475/unreason.dat': { valid: true },
  'rfc4475/noreason.dat': { valid: true },
  'rfc4475/badinv01.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/clerr.dat': { valid: false, response: 400, fault: 'SIP_ERR_BODY_TRUNCATED' },
  'rfc4475/ncl.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_CONTENT_LENGTH' },
  'rfc4475/scalar02.dat': { valid: false, response: 400, fault: 'SIP_ERR_VALUE_OUT_OF_RANGE' },
  'rfc4475/scalarlg.dat': { valid: false, response: null, fault: 'SIP_ERR_VALUE_OUT_OF_RANGE' },
  'rfc4475/quotbal.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/ltgtruri.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_REQUEST_URI' },
  'rfc4475/lwsruri.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_START_LINE' },
  'rfc4475/lwsstart.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_START_LINE' },
  'rfc4475/trws.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_START_LINE' },
  'rfc4475/escruri.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_REQUEST_URI' },
  'rfc4475/baddate.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/regbadct.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/badaspec.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/baddn.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_HEADER_VALUE' },
  'rfc4475/badvers.dat': { valid: false, response: 505, fault: 'SIP_ERR_BAD_VERSION' },
  'rfc4475/mismatch01.dat': { valid: false, response: 400, fault: 'SIP_ERR_CSEQ_METHOD_MISMATCH' },
  'rfc4475/mismatch02.dat': { valid: false, response: 501, fault: 'SIP_ERR_CSEQ_METHOD_MISMATCH' },
  'rfc4475/bigcode.dat': { valid: false, response: null, fault: 'SIP_ERR_BAD_STATUS' },
  'rfc4475/badbranch.dat': { valid: true },
  'rfc4475/insuf.dat': { valid: false, response: 400, fault: 'SIP_ERR_MISSING_HEADER' },
  'rfc4475/unkscm.dat': { valid: true },
  'rfc4475/novelsc.dat': { valid: true },
  'rfc4475/unksm2.dat': { valid: true },
  'rfc4475/bext01.dat': { valid: true },
  'rfc4475/invut.dat': { valid: true },
  'rfc4475/regaut01.dat': { valid: true },
  'rfc4475/multi01.dat': { valid: false, response: 400, fault: 'SIP_ERR_DUPLICATE_HEADER' },
  'rfc4475/mcl01.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_CONTENT_LENGTH' },
  'rfc4475/bcast.dat': { valid: true },
  'rfc4475/zeromf.dat': { valid: true },
  'rfc4475/cparam01.dat': { valid: true },
  'rfc4475/cparam02.dat': { valid: true },
  'rfc4475/regescrt.dat': { valid: true },
  'rfc4475/sdp01.dat': { valid: true },
  'rfc4475/inv2543.dat': { valid: true },
  // Not one of the RFC's tests: a request line without a SIP version.
  'rfc4475/test.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_START_LINE' },
  'rfc5118/ipv6-good.dat': { valid: true },
  'rfc5118/ipv6-bad.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_REQUEST_URI' },
  'rfc5118/port-ambiguous.dat': { valid: true },
  'rfc5118/port-unambiguous.dat': { valid: true },
  'rfc5118/via-received-param-with-delim.dat': { valid: true },
  'rfc5118/via-received-param-no-delim.dat': { valid: true },
  // As printed in the RFC, Content-Length (268) exceeds the datagram (251): RFC 3261 18.3 says error.
  'rfc5118/ipv6-in-sdp.dat': { valid: false, response: 400, fault: 'SIP_ERR_BODY_TRUNCATED' },
  'rfc5118/mult-ip-in-header.dat': { valid: true },
  'rfc5118/mult-ip-in-sdp.dat': { valid: true },
  'rfc5118/ipv4-mapped-ipv6.dat': { valid: true },
  'rfc5118/ipv6-bug-abnf-3-colons.dat': { valid: false, response: 400, fault: 'SIP_ERR_BAD_REQUEST_URI' },
  'rfc5118/ipv6-correct-abnf-2-colons.dat': { valid: true },
  'rfc5118/content-length-corrected/ipv6-in-sdp.dat': { valid: true },
  'rfc5118/content-length-corrected/mult-ip-in-sdp.dat': { valid: true },
  'rfc5118/content-length-corrected/ipv4-mapped-ipv6.dat': { valid: true },
};

function load(file: string): Buffer {
  return fs.readFileSync(path.join(TORTURE_DIR, file));
}

const indexed = fs
  .readFileSync(path.join(TORTURE_DIR, 'index.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t')[0] ?? '');

test('every message of the torture index has an expectation here', () => {
  assert.deepEqual([...indexed].sort(), Object.keys(EXPECTED).sort());
});

for (const file of indexed) {
  const expected = EXPECTED[file];
  if (expected === undefined) continue;
  test(`torture ${file}: ${expected.valid ? 'valid' : `invalid${expected.response ? `, ${expected.response}` : ', dropped'}`}`, () => {
    const result = inspectMessage(load(file));
    if (expected.valid) {
      assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.faults));
      // Round trip: serialize and parse again gives the same bytes and the same message.
      const bytes = serializeMessage(result.message);
      const again = parseMessage(bytes);
      assert.deepEqual(serializeMessage(again), bytes);
      assert.deepEqual(again.headers, result.message.headers);
      return;
    }
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.ok(result.faults.some((f) => f.code === expected.fault), JSON.stringify(result.faults));
    assert.equal(result.response?.status ?? null, expected.response ?? null);
    if (result.response !== undefined) assert.ok(result.response.reason.length > 0);
  });
}

// What each message tests, beyond "it parses".
test('wsinv: folding, compact forms, odd spacing, leading zeros', () => {
  const m = parseMessage(load('rfc4475/wsinv.dat'));
  assert.equal(m.kind, 'request');
  assert.equal(m.maxForwards(), 68);
  assert.deepEqual(m.cseq(), { seq: 9, method: 'INVITE' });
  assert.equal(m.from().displayName, 'J Rosenberg \\"');
  assert.equal(m.fromTag(), '98asjd8');
  assert.equal(m.toTag(), '1918181833n');
  const vias = m.via();
  assert.equal(vias.length, 3);
  assert.deepEqual(vias.map((v) => [v.transport, v.host]), [['UDP', '192.0.2.2'], ['TCP', 'spindle.example.com'], ['UDP', '192.168.255.111']]);
  assert.equal(paramValue(vias[2]?.params ?? [], 'branch'), 'z9hG4bK30239');
  assert.equal(m.header('subject'), '');
  assert.equal(m.header('NewFangledHeader'), 'newfangled value continued newfangled value');
  assert.equal(m.header('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  const [contact] = m.contacts();
  assert.ok(contact !== undefined && !('star' in contact));
  assert.equal(contact.displayName, 'Quoted string ""');
  assert.equal(paramValue(contact.params, 'newparam'), 'newvalue');
  assert.equal(paramValue(contact.params, 'q'), '0.33');
  assert.equal(m.body.length, 150);
});

test('esc02: an escaped method is a different token, C%6Fntact is not Contact', () => {
  const m = parseMessage(load('rfc4475/esc02.dat'));
  assert.ok(m.kind === 'request' && m.method === 'RE%47IST%45R');
  assert.equal(m.contacts().length, 2);
  assert.equal(m.header('C%6Fntact'), '<sip:alias2@host2.example.com>');
});

test('dblreq: octets after Content-Length in a datagram are ignored', () => {
  const m = parseMessage(load('rfc4475/dblreq.dat'));
  assert.ok(m.kind === 'request' && m.method === 'REGISTER');
  assert.equal(m.body.length, 0);
});

test('inv2543: no Content-Length means the body is the rest of the datagram', () => {
  const m = parseMessage(load('rfc4475/inv2543.dat'));
  assert.equal(m.body.length, 105);
  assert.equal(m.fromTag(), undefined);
});

test('cparam01/02: contact-params and url-parameters are told apart', () => {
  const [c1] = parseMessage(load('rfc4475/cparam01.dat')).contacts();
  assert.ok(c1 !== undefined && !('star' in c1) && c1.uri.type === 'sip');
  assert.equal(paramValue(c1.params, 'unknownparam'), null);
  assert.equal(c1.uri.param('unknownparam'), undefined);
  const [c2] = parseMessage(load('rfc4475/cparam02.dat')).contacts();
  assert.ok(c2 !== undefined && !('star' in c2) && c2.uri.type === 'sip');
  assert.equal(c2.uri.param('unknownparam'), null);
  assert.equal(paramValue(c2.params, 'unknownparam'), undefined);
});

test('regescrt: the escaped Route header stays in the Contact URI', () => {
  const [c] = parseMessage(load('rfc4475/regescrt.dat')).contacts();
  assert.ok(c !== undefined && !('star' in c) && c.uri.type === 'sip');
  assert.deepEqual(c.uri.headers, [{ name: 'Route', value: '%3Csip:sip.example.com%3E' }]);
});

test('noreason and unreason: empty and UTF-8 reason phrases', () => {
  const empty = parseMessage(load('rfc4475/noreason.dat'));
  assert.ok(empty.kind === 'response' && empty.status === 100 && empty.reason === '');
  const utf8 = parseMessage(load('rfc4475/unreason.dat'));
  assert.ok(utf8.kind === 'response' && utf8.status === 200);
  assert.ok([...utf8.reason].some((ch) => ch.charCodeAt(0) > 127));
});

test('RFC 5118: IPv6 in Via, received with and without brackets, ambiguous port', () => {
  const m = parseMessage(load('rfc5118/via-received-param-with-delim.dat'));
  assert.equal(m.via()[0]?.hostKind, 'ipv6');
  const r = parseMessage(load('rfc5118/port-ambiguous.dat'));
  assert.ok(r.kind === 'request' && r.uri.type === 'sip' && r.uri.port === undefined && r.uri.host === '2001:db8::10:5070');
});
