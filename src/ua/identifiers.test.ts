import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newBranch, newCallId, newTag } from './identifiers.js';

test('identifiers are well formed and do not repeat across pool refills', () => {
  const seen = new Set<string>();
  // 2000 branches draw 24 KB: several refills of the 4 KiB pool.
  for (let i = 0; i < 2000; i++) {
    const branch = newBranch();
    assert.match(branch, /^z9hG4bK[A-Za-z0-9_-]{16}$/);
    assert.ok(!seen.has(branch));
    seen.add(branch);
  }
  assert.match(newTag(), /^[0-9a-f]{16}$/);
  assert.match(newCallId('host.example'), /^[A-Za-z0-9_-]{22}@host\.example$/);
  assert.notEqual(newTag(), newTag());
});
