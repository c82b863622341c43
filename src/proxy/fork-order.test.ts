import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupsByQ } from './fork-order.js';

const t = (name: string, q: number | undefined): { name: string; q: number | undefined } => ({ name, q });
const names = (groups: ReadonlyArray<ReadonlyArray<{ name: string }>>): string[][] => groups.map((g) => g.map((x) => x.name));

test('equal q, or none at all, is one group: every binding at once', () => {
  assert.deepEqual(names(groupsByQ([t('a', undefined), t('b', undefined), t('c', undefined)])), [['a', 'b', 'c']]);
  assert.deepEqual(names(groupsByQ([t('a', 0.5), t('b', 0.5)])), [['a', 'b']]);
  assert.deepEqual(groupsByQ([]), []);
});

test('different q: highest first, one group per value, arrival order kept inside a group', () => {
  assert.deepEqual(names(groupsByQ([t('low', 0.1), t('high1', 0.9), t('mid', 0.5), t('high2', 0.9)])), [['high1', 'high2'], ['mid'], ['low']]);
});

test('no q counts as 1.0: it goes with q=1 bindings, before any lower one', () => {
  assert.deepEqual(names(groupsByQ([t('low', 0.3), t('none', undefined), t('one', 1)])), [['none', 'one'], ['low']]);
  assert.deepEqual(names(groupsByQ([t('zero', 0), t('none', undefined)])), [['none'], ['zero']]);
});
