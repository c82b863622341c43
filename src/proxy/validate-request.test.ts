import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invite, OWN } from './fixtures.test.support.js';
import { loopHash, proxyBranch } from './loop-branch.js';
import { validateRequest } from './validate-request.js';

function status(result: ReturnType<typeof validateRequest>): number {
  return result.ok ? 0 : result.answer.status;
}

test('a well-formed request passes and carries its loop hash', () => {
  const request = invite();
  const result = validateRequest(request, { own: OWN });
  assert.ok(result.ok);
  assert.equal(result.hash, loopHash(request));
});

test('Max-Forwards 0 is 483; 1 and absent pass (section 16.3 item 3)', () => {
  const zero = invite('sip:bob@b.test', []);
  zero.setHeader('max-forwards', '0');
  const refused = validateRequest(zero, { own: OWN });
  assert.equal(status(refused), 483);
  assert.equal(refused.ok ? '' : refused.word, 'too-many-hops');
  const one = invite();
  one.setHeader('max-forwards', '1');
  assert.equal(status(validateRequest(one, { own: OWN })), 0);
  const none = invite();
  none.removeHeader('max-forwards');
  assert.equal(status(validateRequest(none, { own: OWN })), 0);
});

test('a Via of ours with the same hash is a loop (482); with another hash a spiral', () => {
  const first = invite();
  const hash = loopHash(first);
  const looped = invite();
  looped.addHeader('via', `SIP/2.0/UDP proxy.a.test:5060;branch=${proxyBranch(hash)}`);
  looped.addHeader('via', 'SIP/2.0/UDP other.b.test;branch=z9hG4bKother', { prepend: true });
  const loopResult = validateRequest(looped, { own: OWN });
  assert.equal(status(loopResult), 482);
  assert.equal(loopResult.ok ? '' : loopResult.word, 'loop-detected');

  const spiral = invite('sip:bob@c.test');
  spiral.addHeader('via', `SIP/2.0/UDP proxy.a.test:5060;branch=${proxyBranch(hash)}`);
  assert.equal(status(validateRequest(spiral, { own: OWN })), 0);

  const notOurs = invite();
  notOurs.addHeader('via', `SIP/2.0/UDP elsewhere.test:5060;branch=${proxyBranch(hash)}`);
  assert.equal(status(validateRequest(notOurs, { own: OWN })), 0, 'the same branch under another sent-by is not our Via');
});

test('Proxy-Require with unknown tags is 420 listing them in Unsupported; known tags pass', () => {
  const request = invite('sip:bob@b.test', ['Proxy-Require: foo, sec-agree', 'Proxy-Require: bar']);
  const result = validateRequest(request, { own: OWN, proxyRequireSupported: ['SEC-AGREE'] });
  assert.equal(status(result), 420);
  assert.equal(result.ok ? '' : result.word, 'bad-extension');
  assert.deepEqual(result.ok ? [] : result.answer.headers, [['unsupported', 'foo, bar']]);
  assert.equal(status(validateRequest(invite('sip:bob@b.test', ['Proxy-Require: sec-agree']), { own: OWN, proxyRequireSupported: ['sec-agree'] })), 0);
});

test('a tel: Request-URI or Route is 416; a Route that does not parse is 400 naming it', () => {
  const tel = validateRequest(invite('tel:+15551234'), { own: OWN });
  assert.equal(status(tel), 416);
  assert.equal(tel.ok ? '' : tel.word, 'unsupported-uri-scheme');
  assert.equal(status(validateRequest(invite('sip:bob@b.test', ['Route: <tel:+15551234>']), { own: OWN })), 416);
  const broken = invite();
  broken.addHeader('route', '<sip:unterminated');
  const result = validateRequest(broken, { own: OWN });
  assert.equal(status(result), 400);
  assert.equal(result.ok ? '' : result.answer.reason, 'Bad Route');
});
