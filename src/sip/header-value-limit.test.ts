import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from './errors.js';
import { inspectMessage } from './parse-message.js';

const routes = (n: number): string => Array.from({ length: n }, (_, i) => `<sip:p${i}.example;lr>`).join(', ');
const request = (n: number): Buffer => Buffer.from(
  'INVITE sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n' +
  `To: <sip:b@example.net>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nRoute: ${routes(n)}\r\nContent-Length: 0\r\n\r\n`, 'latin1');

// issue-10 (9): maxHeaderValues was read from the global SIP_LIMITS whatever the parse was given.
test('maxHeaderValues given to a full parse bounds the values of one field', () => {
  const refused = inspectMessage(request(5), { limits: { maxHeaderValues: 4 } });
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.ok(refused.faults.some((f) => f.code === 'SIP_ERR_TOO_MANY_VALUES'), JSON.stringify(refused.faults));
  assert.equal(inspectMessage(request(4), { limits: { maxHeaderValues: 4 } }).ok, true);
  assert.equal(inspectMessage(request(5)).ok, true);
});

test('a lazily parsed message keeps its parse limit for the readers that run later', () => {
  const lazy = inspectMessage(request(5), { depth: 'lazy', limits: { maxHeaderValues: 4 } });
  assert.equal(lazy.ok, true);
  if (!lazy.ok) return;
  assert.throws(() => lazy.message.routes(), (e: unknown) => e instanceof SipParseError && e.code === 'SIP_ERR_TOO_MANY_VALUES');
  assert.throws(() => lazy.message.headerValues('route'), SipParseError);
  const roomy = inspectMessage(request(600), { depth: 'lazy', limits: { maxHeaderValues: 1000 } });
  assert.equal(roomy.ok, true);
  if (roomy.ok) assert.equal(roomy.message.routes().length, 600);
});
