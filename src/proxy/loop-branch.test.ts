import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invite } from './fixtures.test.support.js';
import { hashOfBranch, loopHash, proxyBranch, statelessBranch } from './loop-branch.js';

test('the loop hash ignores the method and the top Via, and follows the Request-URI, tags, Call-ID, CSeq number and Route', () => {
  const base = loopHash(invite());
  assert.equal(loopHash(invite('sip:bob@b.test', [], 'OPTIONS')), base, 'method left out (section 16.6 item 8)');
  const otherVia = invite();
  otherVia.addHeader('via', 'SIP/2.0/TCP hop.test;branch=z9hG4bKx', { prepend: true });
  assert.equal(loopHash(otherVia), base);
  assert.notEqual(loopHash(invite('sip:carol@b.test')), base);
  assert.notEqual(loopHash(invite('sip:bob@b.test', ['Route: <sip:edge.test;lr>'])), base);
  assert.notEqual(loopHash(invite('sip:bob@b.test', ['Proxy-Authorization: Digest username="a"'])), base);
  assert.match(base, /^[0-9a-f]{20}$/);
});

test('our branches carry the magic cookie and their hash; each is new, the stateless one is stable', () => {
  const request = invite();
  const hash = loopHash(request);
  const a = proxyBranch(hash);
  const b = proxyBranch(hash);
  assert.ok(a.startsWith('z9hG4bK'));
  assert.notEqual(a, b);
  assert.equal(hashOfBranch(a), hash);
  assert.equal(hashOfBranch('z9hG4bKsomethingelse'), undefined);
  assert.equal(hashOfBranch(undefined), undefined);
  assert.equal(statelessBranch(hash, request), statelessBranch(hash, invite()));
  assert.equal(hashOfBranch(statelessBranch(hash, request)), hash);
});
