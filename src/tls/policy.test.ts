import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TLS_POLICY, resolveTlsPolicy } from './policy.js';
import { BadPolicyError } from './errors.js';
import { TLS_LIMITS } from '../limits.js';

test('the default policy is strict, wildcard-free, DANE on, depth from TLS_LIMITS', () => {
  const p = resolveTlsPolicy();
  assert.deepEqual(p, DEFAULT_TLS_POLICY);
  assert.equal(p.mode, 'strict');
  assert.equal(p.allowWildcard, false);
  assert.equal(p.maxChainDepth, TLS_LIMITS.maxChainDepth);
  assert.equal(p.onNoUsableTlsa, 'fail');
  assert.ok(Object.isFrozen(DEFAULT_TLS_POLICY));
});

test('undefined options keep the defaults', () => {
  assert.equal(resolveTlsPolicy({ maxChainDepth: undefined }).maxChainDepth, TLS_LIMITS.maxChainDepth);
});

test('bad fields throw TLS_ERR_BAD_POLICY naming the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ maxChainDepth: 0 }, 'maxChainDepth'],
    [{ maxChainDepth: 2.5 }, 'maxChainDepth'],
    [{ mode: 'paranoid' }, 'mode'],
    [{ allowWildcard: 'yes' }, 'allowWildcard'],
    [{ digestPreference: ['md5'] }, 'digestPreference'],
    [{ onNoUsableTlsa: 'pkix' }, 'onNoUsableTlsa'],
  ];
  for (const [options, field] of cases) {
    assert.throws(() => resolveTlsPolicy(options), (e: unknown) => e instanceof BadPolicyError && e.code === 'TLS_ERR_BAD_POLICY' && e.field === field, field);
  }
});
