/**
 * `sipsec check` against the lab (test/support/check-lab.ts): one domain per defect of issue 14,
 * each with its expected findings and grade; the CLI's exit codes; the HTML report in headless
 * Chromium; batch mode over 200 domains, some of them black holes. One file, because the lab
 * binds fixed loopback addresses (127.0.0.80-92, and 127.0.0.82:5061).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createResolver } from '../../src/dns/create-resolver.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import type { CheckReport } from '../../src/check/evaluate.js';
import type { FindingId } from '../../src/check/findings.js';
import { renderHtml } from '../../src/check/render-html.js';
import { renderText } from '../../src/check/render-text.js';
import { checkDomain } from '../../src/check/run-check.js';
import { runCli } from '../../src/cli/run-cli.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import { startCheckLab, type CheckLab } from '../support/check-lab.js';
import { repoRoot } from '../support/tls-repo-root.js';

let lab: CheckLab;
let resolver: CachingResolver;
let trustStore: TrustStore;
const reports = new Map<string, CheckReport>();

before(async () => {
  lab = await startCheckLab();
  resolver = await createResolver({ backend: 'libunbound', configFile: lab.dnsConfigFile });
  trustStore = TrustStore.fromPem(lab.caPem);
});
after(async () => {
  await resolver?.close();
  await lab?.stop();
});

async function check(domain: string): Promise<CheckReport> {
  let report = reports.get(domain);
  if (report === undefined) {
    // tls10's server speaks no SIP: the OPTIONS wait is kept short.
    report = await checkDomain(domain, { resolver, trustStore, timeoutMs: 20_000, optionsTimeoutMs: 1_500 });
    reports.set(domain, report);
  }
  return report;
}

const ids = (report: CheckReport, severity?: string): FindingId[] =>
  report.findings.filter((f) => severity === undefined || f.severity === severity).map((f) => f.id);

function expectFindings(report: CheckReport, expected: { grade: string; errors?: FindingId[]; warnings?: FindingId[]; has?: FindingId[]; hasNot?: FindingId[] }): void {
  const context = JSON.stringify(report.findings.map((f) => `${f.severity} ${f.id}: ${f.seen}`), null, 1);
  assert.equal(report.grade, expected.grade, context);
  if (expected.errors) assert.deepEqual([...new Set(ids(report, 'error'))].sort(), [...expected.errors].sort(), context);
  if (expected.warnings) assert.deepEqual([...new Set(ids(report, 'warning'))].sort(), [...expected.warnings].sort(), context);
  for (const id of expected.has ?? []) assert.ok(ids(report).includes(id), `${id} missing: ${context}`);
  for (const id of expected.hasNot ?? []) assert.ok(!ids(report).includes(id), `${id} present: ${context}`);
}

describe('one domain per defect', () => {
  test('perfect: NAPTR, SRV, TLSA, all secure; DANE-EE and RFC 5922 both connect; OPTIONS answered: A+', async () => {
    const r = await check('perfect.lab.test');
    expectFindings(r, { grade: 'A+', errors: [], warnings: [], has: ['dns-secure', 'dane-ok', 'cert-verified', 'tls-version-modern', 'sip-answered', 'client-cert-requested', 'ocsp-not-stapled'] });
    const t = r.targets[0];
    assert.ok(t);
    assert.equal(t.verdicts.daneAware.connects, true);
    assert.equal(t.verdicts.daneAware.method, 'dane-ee');
    assert.equal(t.verdicts.rfc5922Only.connects, true);
    assert.equal(t.verdicts.cnOnly.connects, false, 'CN is the SRV host, not the domain');
    assert.deepEqual(t.tls.versions, { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    assert.equal(t.tls.clientCertificateRequested, true);
    assert.equal(t.daneRecords.length, 1);
    assert.equal(t.daneRecords[0]?.matches, true);
    assert.equal(t.sip.status, 200);
    assert.match(t.sip.allow ?? '', /OPTIONS/);
    assert.equal(t.chain.length, 2);
  });

  test('no NAPTR/SRV: the address fallback at 5061 works, but the SRV records are missing and so is TLSA: B', async () => {
    const r = await check('nosrv.lab.test');
    expectFindings(r, { grade: 'B', errors: [], warnings: ['srv-missing', 'tlsa-missing'], has: ['naptr-missing', 'cert-verified'] });
    const tlsa = r.findings.find((f) => f.id === 'tlsa-missing');
    assert.match(tlsa?.fix ?? '', /^Publish in the signed zone: _5061\._tcp\.nosrv\.lab\.test\. IN TLSA 3 1 1 [0-9a-f]{64}$/);
  });

  test('TLS not offered (UDP and TCP only): F', async () => {
    const r = await check('notls.lab.test');
    expectFindings(r, { grade: 'F', errors: ['tls-not-offered'], hasNot: ['plain-offered'] });
    assert.deepEqual(r.dns.services.map((s) => s.service).sort(), ['tcp', 'udp']);
  });

  test('bogus signature: DNSSEC failure reported with the reason, F', async () => {
    const r = await check('forged.test');
    expectFindings(r, { grade: 'F', has: ['dns-bogus'] });
    const bogus = r.dns.lookups.find((l) => l.state === 'bogus');
    assert.ok(bogus?.why !== undefined && bogus.why.length > 0, 'bogus carries the validator reason');
  });

  test('insecure delegation: RFC 5922 verifies, DANE cannot apply: B', async () => {
    const r = await check('unsigned.test');
    expectFindings(r, { grade: 'B', errors: [], warnings: ['dns-insecure'], has: ['cert-verified'], hasNot: ['tlsa-missing', 'dane-ok'] });
    assert.equal(r.targets[0]?.verdicts.daneAware.method, 'rfc5922');
  });

  test('TLSA mismatch: a DANE-aware client refuses and does not fall back; UDP beside TLS is a downgrade: F', async () => {
    const r = await check('tlsamismatch.lab.test');
    expectFindings(r, { grade: 'F', errors: ['cert-refused', 'tlsa-mismatch'], warnings: ['plain-offered'] });
    const t = r.targets[0];
    assert.equal(t?.verdicts.daneAware.connects, false);
    assert.equal(t?.verdicts.rfc5922Only.connects, true, 'an RFC 5922-only client would connect');
    assert.equal(t?.daneRecords[0]?.matches, false);
  });

  test('DANE-EE matching but the name wrong: still passes DANE-EE, and the report says so: B', async () => {
    const r = await check('daneeename.lab.test');
    expectFindings(r, { grade: 'B', errors: [], warnings: ['dane-ee-name-mismatch', 'rfc5922-refused'], has: ['dane-ok', 'cert-verified'] });
    assert.equal(r.targets[0]?.verdicts.daneAware.method, 'dane-ee');
  });

  test('certificate for the SRV host only (seed 004 example 1): DANE yes, RFC 5922 no, CN-only no: B', async () => {
    const r = await check('srvhostonly.lab.test');
    expectFindings(r, { grade: 'B', errors: [], warnings: ['rfc5922-refused', 'srv-host-only'], has: ['dane-ok'] });
    const v = r.targets[0]?.verdicts;
    assert.equal(v?.daneAware.connects, true);
    assert.equal(v?.daneAware.method, 'dane-ta');
    assert.equal(v?.rfc5922Only.connects, false);
    assert.equal(v?.cnOnly.connects, false);
  });

  test('expired certificate: F', async () => {
    expectFindings(await check('expired.lab.test'), { grade: 'F', errors: ['cert-refused', 'cert-expired'] });
  });

  test('unknown CA: F', async () => {
    expectFindings(await check('unknownca.lab.test'), { grade: 'F', errors: ['cert-refused', 'cert-unknown-ca'] });
  });

  test('wildcard certificate: RFC 5922 section 7.2 refuses it: F', async () => {
    expectFindings(await check('wildcard.lab.test'), { grade: 'F', errors: ['cert-refused', 'cert-wildcard'] });
  });

  test('chain too deep (anchor at depth 7, limit 5): F', async () => {
    const r = await check('deepchain.lab.test');
    expectFindings(r, { grade: 'F', errors: ['cert-refused', 'cert-chain-too-deep'] });
    assert.equal(r.targets[0]?.chain.length, 7);
  });

  test('TLS 1.0 accepted: verified, but an error finding: C', async () => {
    const r = await check('tls10.lab.test');
    expectFindings(r, { grade: 'C', errors: ['tls-version-old'], has: ['cert-verified', 'sip-no-answer'] });
    assert.equal(r.targets[0]?.tls.versions.TLSv1, true);
    assert.equal(r.targets[0]?.tls.versions['TLSv1.1'], true);
  });

  test('the text report names every finding; without colour it has no escape codes', async () => {
    const r = await check('srvhostonly.lab.test');
    const text = renderText(r, { colour: false });
    for (const f of r.findings) assert.ok(text.includes(f.id));
    assert.ok(!text.includes('\x1b['));
    assert.match(text, /RFC 5922-only client: refuses/);
  });
});

describe('the CLI', () => {
  const io = (): { out: string[]; err: string[]; io: { stdout: (t: string) => void; stderr: (t: string) => void } } => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) } };
  };
  const common = (): string[] => ['--ca', lab.caFile, '--dns-config', lab.dnsConfigFile];

  test('exit 0 and a JSON report of schema sipsec.check/1 on one line for the perfect domain (as a sips URI)', async () => {
    const c = io();
    const code = await runCli(['check', 'sips:perfect.lab.test', '--json', ...common()], c.io);
    assert.equal(code, 0, c.err.join(''));
    const report = JSON.parse(c.out.join('')) as CheckReport;
    assert.equal(c.out.join('').split('\n').length, 2, 'one line');
    assert.equal(report.schema, 'sipsec.check/1');
    assert.equal(report.domain, 'perfect.lab.test');
    assert.equal(report.grade, 'A+');
  });

  test('exit 1 for an error finding, with the text report and the HTML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sipsec-check-cli-'));
    try {
      const c = io();
      const html = join(dir, 'r.html');
      const code = await runCli(['check', 'expired.lab.test', '--html', html, ...common()], c.io);
      assert.equal(code, 1);
      assert.match(c.out.join(''), /grade F/);
      assert.match(await readFile(html, 'utf8'), /cert-expired/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('exit 2 for usage errors', async () => {
    for (const argv of [['check'], ['check', '127.0.0.1'], ['check', 'a.test', 'b.test'], ['check', 'a.test', '--concurrency', '3'], ['check', 'a.test', '--timeout', 'soon']]) {
      const c = io();
      assert.equal(await runCli(argv, c.io), 2, argv.join(' '));
    }
  });
});

describe('the HTML report in headless Chromium', () => {
  test('renders with no console errors, the findings listed and the pictures drawn; screenshots kept', async () => {
    const report = await check('srvhostonly.lab.test');
    const artifacts = join(repoRoot(), 'test-artifacts');
    await mkdir(artifacts, { recursive: true });
    const file = join(artifacts, 'check-report.html');
    await writeFile(file, renderHtml(report));
    const profile = await mkdtemp(join(tmpdir(), 'sipsec-chromium-'));
    // A fresh profile (Playwright passes it as --user-data-dir); Debian's chromium, no browser download.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      assert.deepEqual(problems, []);
      assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'no external asset');
      const listed = await page.evaluate<string[]>("[...document.querySelectorAll('#findings li')].map((e) => e.getAttribute('data-id'))");
      assert.deepEqual(listed.sort(), report.findings.map((f) => f.id).sort());
      assert.equal(await page.locator('#grade').innerText(), 'B');
      for (const selector of ['#dns-chain svg', '.cert-chain svg']) {
        const box = await page.locator(selector).first().boundingBox();
        assert.ok(box !== null && box.width > 100 && box.height > 50, `${selector} drawn: ${JSON.stringify(box)}`);
      }
      // Strings, not functions: the project compiles without the DOM library.
      const nodes = await page.evaluate<number[]>("[...document.querySelectorAll('#dns-chain svg g.node rect')].map((e) => e.getBBox().width)");
      assert.ok(nodes.length >= 3 && nodes.every((w) => w > 0), `DNS chain boxes: ${JSON.stringify(nodes)}`);
      const certs = await page.locator('.cert-chain svg g.cert').count();
      assert.equal(certs, report.targets[0]?.chain.length);
      await page.screenshot({ path: join(artifacts, 'check-report.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `no sideways scrolling on a phone: ${overflow}px`);
      await page.screenshot({ path: join(artifacts, 'check-report-phone.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.pdf({ path: join(artifacts, 'check-report.pdf') });
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});

describe('batch mode', () => {
  test('200 domains (NXDOMAIN, black holes, lab domains), concurrency 20: every domain reported once, black holes cut at their timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sipsec-check-batch-'));
    try {
      const domains = [
        ...Array.from({ length: 160 }, (_, i) => `nx${i}.lab.test`),
        ...Array.from({ length: 10 }, (_, i) => `slow${i}.lab.test`),
        ...Array.from({ length: 20 }, (_, i) => `d${i}.${lab.blackholeZone}`),
        'perfect.lab.test', 'expired.lab.test', 'nosrv.lab.test', 'notls.lab.test', 'forged.test',
        'unsigned.test', 'wildcard.lab.test', 'unknownca.lab.test', 'deepchain.lab.test', 'srvhostonly.lab.test',
      ];
      assert.equal(domains.length, 200);
      const file = join(dir, 'domains.txt');
      await writeFile(file, `# generated\n${domains.join('\n')}\n`);
      const out = join(dir, 'out.jsonl');
      const err: string[] = [];
      const code = await runCli(['check', '--file', file, '--concurrency', '20', '--jsonl', out, '--timeout', '5000',
        '--ca', lab.caFile, '--dns-config', lab.dnsConfigFile], { stdout: () => undefined, stderr: (t) => void err.push(t) });
      assert.equal(code, 1, 'some domains have errors');
      const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as CheckReport);
      assert.equal(lines.length, 200);
      assert.deepEqual(lines.map((r) => r.domain).sort(), [...domains].sort());
      const holes = lines.filter((r) => r.domain.endsWith(`.${lab.blackholeZone}`));
      // Black holes never answer: nothing is proven absent, so they are not audited (grade ?).
      assert.ok(holes.every((r) => r.grade === '?' && r.findings.some((f) => f.id === 'check-cut-short' || f.id === 'dns-indeterminate' || f.id === 'dns-no-answer')));
      assert.ok(holes.every((r) => !r.findings.some((f) => f.id === 'tls-not-offered' || f.id === 'srv-missing')), 'no absence from a black hole');
      assert.equal(lines.find((r) => r.domain === 'perfect.lab.test')?.grade, 'A+');
      assert.match(err.join(''), /^200\/200 domains checked in [\d.]+ s; with errors: \d+; grades: A\+ 1, A 0, B \d+, C \d+, F \d+, \? \d+\n$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
