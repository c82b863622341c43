import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stderrTransportLog } from './transport-log.js';

// issue-12 (2): ESC, NUL, BEL and a forged field reached stderr through the framing error's text.
test('issue-12: every log field is escaped and bounded', (t) => {
  const hostile = `\x1b[31m\x00\x07" injected="yes"\r\nsipsec transport forged ${'9'.repeat(70_000)}`;
  const written: string[] = [];
  const write = t.mock.method(process.stderr, 'write', (chunk: string) => written.push(chunk) > 0);
  stderrTransportLog({ level: 'warn', event: 'framing-lost', connection: 'c1', remote: { address: '127.0.0.1', port: 5060 }, reason: hostile, detail: hostile });
  write.mock.restore();
  assert.equal(written.length, 1);
  const line = written[0] ?? '';
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1);
  assert.match(line.slice(0, -1), /^[ -~]*$/);
  assert.ok(line.length < 1_000);
  assert.ok(!line.includes('injected="yes"'));
  assert.equal((line.match(/"/g) ?? []).length, 4);
});
