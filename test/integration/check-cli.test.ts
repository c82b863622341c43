/**
 * `sipsec check` as a spawned process against a black-hole DNS (every question to `hole.test.`
 * goes to a socket that never answers): Ctrl-C in batch mode, the one-line JSON, unwritable
 * output files refused before anything is asked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLibunboundConfig } from '../../src/lab/unbound-config.js';
import { schemaOf } from '../../src/cli/json-output.js';
import { CHECK_SCHEMA } from '../../src/check/evaluate.js';
import { startDnsBlackhole, type DnsBlackhole } from '../support/dns-blackhole.js';
import { repoRoot } from '../support/tls-repo-root.js';

let dir: string;
let hole: DnsBlackhole;
let dnsConfig: string;
const cli = (): string => join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sipsec-check-cli-'));
  hole = await startDnsBlackhole();
  dnsConfig = join(dir, 'libunbound.conf');
  await writeLibunboundConfig(dnsConfig, { trustAnchors: [], stubZones: [{ name: 'hole.test.', port: hole.port }], nodefaultZones: ['test.'] });
});
after(async () => {
  await hole?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, [cli(), 'check', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  onSpawn?.(child);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('sipsec check against a DNS black hole', () => {
  test('the report schema is the one every command uses', () => {
    assert.equal(CHECK_SCHEMA, schemaOf('check'));
  });

  test('--json prints one compact line of schema sipsec.check/1; nothing is called absent', async () => {
    const r = await start(['a.hole.test', '--json', '--timeout', '1000', '--dns-config', dnsConfig]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 2, 'one line and its newline');
    assert.equal(lines[1], '');
    const report = JSON.parse(lines[0] ?? '') as { schema: string; grade: string; findings: { id: string }[]; dns: { lookups: unknown[] } };
    assert.equal(report.schema, 'sipsec.check/1');
    assert.ok(lines[0]?.startsWith('{"schema":"sipsec.check/1",'), 'schema first');
    assert.equal(report.grade, '?');
    assert.ok(report.dns.lookups.length > 0, 'the questions asked are kept');
    const ids = report.findings.map((f) => f.id);
    assert.ok(!ids.includes('tls-not-offered') && !ids.includes('srv-missing'), ids.join(', '));
  });

  test('an unwritable --html or --jsonl: exit 2 with a one-line reason, no stack trace, nothing asked', async () => {
    const before = hole.received();
    const html = await start(['a.hole.test', '--html', join(dir, 'missing', 'x.html'), '--dns-config', dnsConfig]);
    assert.equal(html.code, 2);
    assert.match(html.stderr, /^sipsec check: --html: cannot write .*missing\/x\.html: ENOENT$/m);
    assert.doesNotMatch(html.stderr, /\n\s+at /, 'no stack trace');
    const list = join(dir, 'one.txt');
    await writeFile(list, 'a.hole.test\n');
    const jsonl = await start(['--file', list, '--jsonl', join(dir, 'missing', 'out.jsonl'), '--dns-config', dnsConfig]);
    assert.equal(jsonl.code, 2);
    assert.match(jsonl.stderr, /^sipsec check: --jsonl: cannot write .*missing\/out\.jsonl: ENOENT$/m);
    assert.equal(hole.received(), before, 'no DNS question was sent');
  });

  test('Ctrl-C in batch mode writes the partial JSON lines and exits long before a domain timeout could elapse', { timeout: 120_000 }, async () => {
    const list = join(dir, 'domains.txt');
    await writeFile(list, Array.from({ length: 30 }, (_, i) => `d${i}.hole.test`).join('\n'));
    const out = join(dir, 'out.jsonl');
    // The per-domain timeout (10 min) is far beyond the few seconds libunbound takes to give up on
    // the questions in flight: an exit before it shows that Ctrl-C, not the deadline, ended the run.
    const asked = hole.received();
    const started = Date.now();
    const r = await start(['--file', list, '--concurrency', '5', '--jsonl', out, '--timeout', '600000', '--dns-config', dnsConfig], (child) => {
      const poll = setInterval(() => {
        // Once the lookups are in flight (the SIGINT handler is installed before the first one).
        if (hole.received() > asked) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 20);
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 600_000, `exited after ${elapsed} ms`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^\d+\/30 domains checked \(interrupted\)/m);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { schema: string; cutShort?: string; grade: string });
    assert.equal(lines.length, 5, 'the five domains in flight, cut short and written');
    assert.ok(lines.every((l) => l.schema === 'sipsec.check/1' && l.cutShort === 'interrupted' && l.grade === '?'));
  });
});
