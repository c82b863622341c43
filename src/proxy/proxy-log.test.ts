import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxyLog } from './proxy-log.js';

test('JSON lines carry the event word and the fields, one line each', () => {
  const lines: string[] = [];
  const log = createProxyLog({ sink: { write: (l) => lines.push(l) } });
  log.info('registration-added', { aor: 'alice@a.test', contact: 'sip:alice@127.0.0.1:5070' });
  log.debug('not-shown');
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(record.event, 'registration-added');
  assert.equal(record.aor, 'alice@a.test');
  assert.equal(record.level, 30);
  assert.match(String(record.time), /^\d{4}-\d\d-\d\dT/);
});

test('a peer\'s bytes in a field cannot forge a line, in JSON or in text', () => {
  const hostile = 'x\n{"event":"forged"}\x1b[31m';
  for (const format of ['json', 'text'] as const) {
    const lines: string[] = [];
    const log = createProxyLog({ format, sink: { write: (l) => lines.push(l) } });
    log.warn('hop-refused', { detail: hostile });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.split('\n').length, 2, `${format}: ${JSON.stringify(lines[0])}`);
    assert.ok(!lines[0]?.includes('\x1b'), format);
  }
});

test('the text format is one readable line', () => {
  const lines: string[] = [];
  const log = createProxyLog({ format: 'text', level: 'debug', sink: { write: (l) => lines.push(l) } });
  log.debug('proxy-started', { listeners: 2 });
  assert.match(lines[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} DEBUG proxy-started listeners=2\n$/);
});
