import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAckForNon2xx, buildCancel } from './ack-request.js';
import { request, responseTo } from './fixtures.test.support.js';
import {
  cancelTargetKey, clientTxKey, hasMagicCookie, matchRfc2543Ack, matchRfc2543Cancel, matchRfc2543Request, serverTxKey, viaEquals,
} from './tx-keys.js';

test('magic cookie: z9hG4bK followed by something (section 8.1.1.7)', () => {
  assert.equal(hasMagicCookie('z9hG4bK776'), true);
  assert.equal(hasMagicCookie('z9hG4bK'), false);
  assert.equal(hasMagicCookie('776asdhds'), false);
  assert.equal(hasMagicCookie(undefined), false);
});

test('clientTxKey (17.1.3): branch and CSeq method; a response finds its request, a CANCEL has its own key', () => {
  const invite = request();
  const key = clientTxKey(invite);
  assert.equal(key, clientTxKey(responseTo(invite, 180)));
  assert.equal(key, clientTxKey(responseTo(invite, 486)));
  const cancel = buildCancel(invite);
  assert.notEqual(clientTxKey(cancel), key);
  assert.equal(clientTxKey(cancel), clientTxKey(responseTo(cancel, 200)));
  assert.notEqual(clientTxKey(request({ branch: 'z9hG4bKother' })), key);
  // Branch compared case-insensitively (section 7.3.1).
  assert.equal(clientTxKey(request({ branch: 'Z9HG4BK776ASDHDS' })), key);
});

test('serverTxKey (17.2.3): branch, sent-by and method; ACK joins its INVITE', () => {
  const invite = request();
  const key = serverTxKey(invite);
  assert.ok(key !== undefined);
  const ack = buildAckForNon2xx(invite, responseTo(invite, 486));
  assert.equal(serverTxKey(ack), key);
  // The same branch from another sent-by (accidental or malicious duplication) is another transaction.
  assert.notEqual(serverTxKey(request({ via: 'SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK776asdhds' })), key);
  assert.notEqual(serverTxKey(request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776asdhds' })), key);
  assert.equal(serverTxKey(request({ via: 'SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1;branch=z9hG4bK776asdhds' })), key);
  // Other method, same branch: another transaction.
  assert.notEqual(serverTxKey(request({ method: 'OPTIONS' })), key);
  // A CANCEL has its own server transaction, and targets the INVITE's key (section 9.2).
  const cancel = buildCancel(invite);
  assert.notEqual(serverTxKey(cancel), key);
  assert.equal(cancelTargetKey(cancel), key);
  // RFC 2543 branches have no key.
  assert.equal(serverTxKey(request({ branch: 'legacy1' })), undefined);
  assert.equal(serverTxKey(request({ via: 'SIP/2.0/UDP 192.0.2.1:5060' })), undefined);
  assert.equal(cancelTargetKey(buildCancel(request({ branch: 'legacy1' }))), undefined);
});

test('IPv6 sent-by compares expanded', () => {
  const a = request({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6' });
  const b = request({ via: 'SIP/2.0/UDP [2001:DB8:0:0:0:0:0:1]:5060;branch=z9hG4bKv6' });
  assert.equal(serverTxKey(a), serverTxKey(b));
});

test('RFC 2543 request matching: Request-URI, To tag, From tag, Call-ID, CSeq and top Via', () => {
  const via = 'SIP/2.0/UDP 192.0.2.1:5060';
  const original = request({ via });
  assert.equal(matchRfc2543Request(original, request({ via })), true);
  // Request-URI compared by section 19.1.4 rules (host case-insensitive).
  assert.equal(matchRfc2543Request(original, request({ via, uri: 'sip:bob@EXAMPLE.com' })), true);
  assert.equal(matchRfc2543Request(original, request({ via, uri: 'sip:carol@example.com' })), false);
  assert.equal(matchRfc2543Request(original, request({ via, toTag: 'x' })), false);
  assert.equal(matchRfc2543Request(original, request({ via, fromTag: 'other' })), false);
  assert.equal(matchRfc2543Request(original, request({ via, callId: 'other@x' })), false);
  assert.equal(matchRfc2543Request(original, request({ via, seq: 2 })), false);
  assert.equal(matchRfc2543Request(original, request({ via: 'SIP/2.0/UDP 192.0.2.2:5060' })), false);
  assert.equal(matchRfc2543Request(original, request({ via: `${via};branch=1234` })), false);
  // Via compares case-insensitively.
  assert.equal(matchRfc2543Request(original, request({ via: 'sip/2.0/udp 192.0.2.1:5060' })), true);
  const options = request({ via, method: 'OPTIONS' });
  assert.equal(matchRfc2543Request(options, request({ via, method: 'OPTIONS' })), true);
  assert.equal(matchRfc2543Request(options, original), false);
});

test('RFC 2543 ACK matching: CSeq number only, To tag of the response sent', () => {
  const via = 'SIP/2.0/UDP 192.0.2.1:5060';
  const invite = request({ via });
  const sent = responseTo(invite, 486, 'Busy Here', 'srv-tag');
  const ack = buildAckForNon2xx(invite, sent);
  assert.equal(matchRfc2543Ack(invite, 'srv-tag', ack), true);
  assert.equal(matchRfc2543Ack(invite, 'other-tag', ack), false, 'the ACK for another response (a forked 2xx) does not match');
  assert.equal(matchRfc2543Ack(invite, 'srv-tag', request({ via, method: 'ACK', toTag: 'srv-tag', seq: 9 })), false);
  assert.equal(matchRfc2543Ack(request({ via, method: 'OPTIONS' }), 'srv-tag', ack), false);
  assert.equal(matchRfc2543Request(invite, ack), false);
});

test('RFC 2543 CANCEL matching (section 9.2)', () => {
  const via = 'SIP/2.0/UDP 192.0.2.1:5060';
  const invite = request({ via });
  assert.equal(matchRfc2543Cancel(invite, buildCancel(invite)), true);
  assert.equal(matchRfc2543Cancel(invite, buildCancel(request({ via, callId: 'x@y' }))), false);
  assert.equal(matchRfc2543Cancel(request({ via, method: 'OPTIONS' }), buildCancel(request({ via, method: 'OPTIONS' }))), false);
});

test('viaEquals needs the same parameters both ways', () => {
  const a = request({ via: 'SIP/2.0/UDP h.example.com;ttl=16' }).topVia();
  const b = request({ via: 'SIP/2.0/UDP H.example.com;TTL=16' }).topVia();
  const c = request({ via: 'SIP/2.0/UDP h.example.com;ttl=16;maddr=224.2.0.1' }).topVia();
  assert.equal(viaEquals(a, b), true);
  assert.equal(viaEquals(a, c), false);
  assert.equal(viaEquals(c, a), false);
  assert.equal(viaEquals(a, undefined), false);
});
