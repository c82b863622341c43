import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnssecState } from './dnssec-state.js';
import { referenceNames, srvHostIsIdentity } from './srv-identity.js';

test('the SRV host is an identity only when the whole lookup chain is secure', () => {
  const cases: [DnssecState | undefined, string[]][] = [
    ['secure', ['example.com', 'sip1.example.net']],
    ['insecure', ['example.com']],
    ['bogus', ['example.com']],
    ['indeterminate', ['example.com']],
    [undefined, ['example.com']],
  ];
  for (const [state, expected] of cases) {
    assert.deepEqual(referenceNames('example.com', 'sip1.example.net', state), expected, `chain ${state}`);
    assert.equal(srvHostIsIdentity('example.com', 'sip1.example.net', state), expected.length === 2, `chain ${state}`);
  }
});

test('no SRV host (an address record or a numeric host): the SIP domain alone', () => {
  assert.deepEqual(referenceNames('example.com', undefined, 'secure'), ['example.com']);
  assert.equal(srvHostIsIdentity('example.com', undefined, 'secure'), false);
});

test('an SRV host that is the SIP domain is not named twice; names compare without case or trailing dot', () => {
  assert.deepEqual(referenceNames('Example.COM', 'example.com.', 'secure'), ['example.com']);
  assert.deepEqual(referenceNames('example.com.', 'SIP.example.com.', 'secure'), ['example.com', 'sip.example.com']);
});
