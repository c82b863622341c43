import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUri, parseSipUri, uriEquals, expandIPv6, SipUri } from './uri.js';
import { SipParseError } from './errors.js';

test('a full sip URI keeps every part as written', () => {
  const uri = parseSipUri('sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi%20there&Priority=urgent');
  assert.equal(uri.scheme, 'sips');
  assert.equal(uri.user, 'alice');
  assert.equal(uri.password, 'secret');
  assert.equal(uri.host, 'Example.COM');
  assert.equal(uri.hostKind, 'domain');
  assert.equal(uri.port, 5061);
  assert.equal(uri.param('TRANSPORT'), 'tcp');
  assert.equal(uri.param('lr'), null);
  assert.equal(uri.param('maddr'), undefined);
  assert.deepEqual(uri.headers, [{ name: 'Subject', value: 'hi%20there' }, { name: 'Priority', value: 'urgent' }]);
  assert.equal(uri.toString(), 'sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi%20there&Priority=urgent');
});

test('escapes in the user part are kept, not decoded into a scheme (RFC 4475 3.1.1.3)', () => {
  const uri = parseSipUri('sip:sips%3Auser%40example.com@example.net');
  assert.equal(uri.user, 'sips%3Auser%40example.com');
  assert.equal(uri.host, 'example.net');
});

test('a user part may contain semicolons (RFC 4475 3.1.1.9)', () => {
  const uri = parseSipUri('sip:user;par=u%40example.net@example.com');
  assert.equal(uri.user, 'user;par=u%40example.net');
  assert.equal(uri.params.length, 0);
});

test('IPv6 references: brackets required, port outside them (RFC 5118 4.2 to 4.4, 4.10)', () => {
  const ambiguous = parseSipUri('sip:[2001:db8::10:5070]');
  assert.equal(ambiguous.host, '2001:db8::10:5070');
  assert.equal(ambiguous.hostKind, 'ipv6');
  assert.equal(ambiguous.port, undefined);
  const unambiguous = parseSipUri('sip:user@[2001:db8::10]:5070');
  assert.equal(unambiguous.host, '2001:db8::10');
  assert.equal(unambiguous.port, 5070);
  assert.equal(unambiguous.hostport(), '[2001:db8::10]:5070');
  assert.throws(() => parseSipUri('sip:2001:db8::10'), SipParseError);
  assert.throws(() => parseSipUri('sip:[2001:db8:::192.0.2.1]'), SipParseError);
  assert.equal(parseSipUri('sip:[2001:db8::192.0.2.1]').hostKind, 'ipv6');
});

test('hosts, ports and characters are validated', () => {
  for (const bad of [
    'sip:', 'sip:@example.com', 'sip:user@', 'sip:exa mple.com', 'sip:example.com:99999', 'sip:example.com:',
    'sip:-bad.example.com', 'sip:1.2.3.999', 'sip:example.com;lr=<', 'sip:example.com?noequals', 'sip:[::1',
    '<sip:user@example.com>', 'sip:user@example.com>', ':nothing', '1abc:xyz',
  ]) {
    assert.throws(() => parseUri(bad), (err: unknown) => err instanceof SipParseError && err.code === 'SIP_ERR_BAD_URI', bad);
  }
  assert.equal(parseSipUri('sip:192.0.2.1:5060').hostKind, 'ipv4');
  assert.equal(parseSipUri('sip:example.com.').host, 'example.com.');
});

test('tel and other absolute URIs are kept whole', () => {
  const tel = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  assert.equal(tel.type, 'tel');
  assert.equal(tel.toString(), 'tel:+1-201-555-0123;phone-context=example.com');
  const other = parseUri('nobodyKnowsThisScheme:totallyopaquecontent');
  assert.equal(other.type, 'absolute');
  assert.equal(other.scheme, 'nobodyknowsthisscheme');
  assert.equal(other.toString(), 'nobodyKnowsThisScheme:totallyopaquecontent');
  assert.equal(parseUri('soap.beep://192.0.2.103:3002').type, 'absolute');
  assert.throws(() => parseUri('tel:abc+'), SipParseError);
});

// The equivalent and non-equivalent pairs of RFC 3261 section 19.1.4.
test('URI equality follows RFC 3261 section 19.1.4', () => {
  const equal: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['sip:user@[2001:db8::1]', 'sip:user@[2001:DB8:0:0:0:0:0:1]'],
  ];
  const different: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
  ];
  for (const [a, b] of equal) assert.ok(uriEquals(parseUri(a), parseUri(b)), `${a} == ${b}`);
  for (const [a, b] of different) assert.ok(!uriEquals(parseUri(a), parseUri(b)), `${a} != ${b}`);
});

test('escaped nulls do not truncate the user part (RFC 4475 3.1.1.4)', () => {
  const uri = parseSipUri('sip:%00control%00chars@example.com');
  assert.ok(uri instanceof SipUri);
  assert.equal(uri.user, '%00control%00chars');
  assert.ok(!uriEquals(uri, parseUri('sip:control@example.com')));
});

test('IPv6 addresses expand for comparison', () => {
  assert.equal(expandIPv6('::1'), '0000:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(expandIPv6('::ffff:192.0.2.1'), expandIPv6('0:0:0:0:0:ffff:c000:201'));
});
