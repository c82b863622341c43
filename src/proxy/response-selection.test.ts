import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invite, reply } from './fixtures.test.support.js';
import { finalForCaller, selectBest } from './response-selection.js';

test('best response: 6xx first, then the lowest class; 4xx that allow a retry before other 4xx; any 5xx before 503 (section 16.7 step 6)', () => {
  const best = (statuses: number[]): number | undefined => statuses[selectBest(statuses)];
  assert.equal(best([486, 603, 500]), 603);
  assert.equal(best([503, 404, 302]), 302);
  assert.equal(best([404, 407, 486]), 407);
  assert.equal(best([486, 404]), 486, 'arrival order within equal rank');
  assert.equal(best([503, 500]), 500);
  assert.equal(best([503]), 503);
  assert.equal(selectBest([]), -1);
});

test('no final at all gives 408 with a To tag', () => {
  const request = invite();
  const response = finalForCaller(request, []);
  assert.equal(response.status, 408);
  assert.ok(response.toTag() !== undefined);
});

test('a 503 becomes 500 and keeps its Warning and Reason', () => {
  const request = invite();
  const failed = reply(request, 503, ['Warning: 399 proxy.a.test:5060 "connection-refused: nothing listens"', 'Reason: SIP;cause=503;text="connection-refused"'], null);
  const response = finalForCaller(request, [failed]);
  assert.equal(response.status, 500);
  assert.deepEqual(response.warnings().map((w) => w.text), ['connection-refused: nothing listens']);
  assert.equal(response.reasons()[0]?.text, 'connection-refused');
  assert.ok(response.toTag() !== undefined);
  assert.equal(response.via().length, 1);
});

test('401 and 407 carry the challenges of every branch (section 16.7 step 7)', () => {
  const request = invite();
  const a = reply(request, 407, ['Proxy-Authenticate: Digest realm="b.test", nonce="1"'], 'a');
  const b = reply(request, 401, ['WWW-Authenticate: Digest realm="c.test", nonce="2"'], 'b');
  const c = reply(request, 486, [], 'c');
  const response = finalForCaller(request, [c, a, b]);
  assert.equal(response.status, 407);
  assert.equal(response.proxyAuthenticates().length, 1);
  assert.equal(response.wwwAuthenticates().length, 1);
  assert.equal(response.toTag(), 'a', 'a received final keeps its To tag');
});

test('a locally made 408 gets a To tag; a request with a To tag keeps the response as it is', () => {
  const request = invite();
  const timeout = reply(request, 408, [], null);
  assert.ok(finalForCaller(request, [timeout]).toTag() !== undefined);
  const inDialog = invite();
  inDialog.setHeader('to', '<sip:bob@b.test>;tag=dialog');
  const answer = reply(inDialog, 481, [], null);
  assert.equal(finalForCaller(inDialog, [answer]).header('to'), '<sip:bob@b.test>;tag=dialog');
});
