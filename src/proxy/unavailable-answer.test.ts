import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unavailableAnswer } from './unavailable-answer.js';

const AGENT = 'sip.b.example';

test('a sips request with no binding over TLS or WSS: 480, Warning 399 with the word first, then 380 SIPS Not Allowed (RFC 5630), and the Reason', () => {
  const spec = unavailableAnswer(AGENT, { kind: 'unavailable', status: 480, why: 'sips-not-deliverable' });
  assert.equal(spec.status, 480);
  assert.equal(spec.reason, 'Temporarily Unavailable');
  const warnings = spec.headers.filter(([name]) => name === 'warning').map(([, value]) => value);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /^399 sip\.b\.example "sips-not-deliverable: .*RFC 5630/);
  assert.equal(warnings[1], '380 sip.b.example "SIPS Not Allowed"');
  assert.deepEqual(spec.headers.filter(([name]) => name === 'reason'), [['reason', 'SIP;cause=480;text="sips-not-deliverable"']]);
});

test('a user with no binding, or whose flows are gone, gets the word alone: no 380, which would tell the caller it was the scheme', () => {
  const none = unavailableAnswer(AGENT, { kind: 'unavailable', status: 480, why: 'not-registered' });
  assert.deepEqual(none.headers, [['warning', '399 sip.b.example "not-registered: no registered contact"']]);
  const gone = unavailableAnswer(AGENT, { kind: 'unavailable', status: 430, why: 'flow-failed' });
  assert.equal(gone.reason, 'Flow Failed');
  assert.deepEqual(gone.headers.map(([name]) => name), ['warning']);
  assert.match(gone.headers[0]?.[1] ?? '', /^399 sip\.b\.example "flow-failed: /);
});
