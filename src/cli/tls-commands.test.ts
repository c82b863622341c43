/** `sipsec cert verify`, `sipsec dane verify`, `sipsec tlsa generate` through runCli, with files on disk. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './command.js';
import { issueCertificate } from '../lab/certificates.js';
import { readOpensslDaneFile } from '../../test/support/tls-dane-vectors.js';
import { daneTestdataDir } from '../../test/support/tls-repo-root.js';
import { encodePemCertificate } from '../tls/certificate.js';
import { formatTlsaRecord } from '../tls/tlsa.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sipsec-tls-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

const DAY = 86_400_000;
const root = issueCertificate({ cn: 'CLI Root', ca: true });
const ca = issueCertificate({ cn: 'CLI CA', ca: true, issuer: root });
const leaf = issueCertificate({ cn: 'sip1.example.net', issuer: ca, san: { uri: ['sip:example.com'], dns: ['sip1.example.net'] } });
const rootFile = file('root.pem', root.pem);
const chainFile = file('chain.pem', leaf.pem + ca.pem);
const leafFile = file('leaf.pem', leaf.pem);

describe('sipsec cert verify', () => {
  test('authenticated: exit 0, text verdict', async () => {
    const r = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile);
    assert.equal(r.code, EXIT_OK, r.out + r.err);
    assert.match(r.out, /^authenticated: method rfc5922/);
  });

  test('wrong domain: exit 1; --json prints the verdict', async () => {
    const r = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.org', '--ca', rootFile, '--json');
    assert.equal(r.code, EXIT_FINDINGS);
    const verdict = JSON.parse(r.out) as { ok: boolean; reasons: { code: string }[] };
    assert.equal(verdict.ok, false);
    assert.equal(verdict.reasons[0]?.code, 'name-mismatch');
  });

  test('--time and --max-depth', async () => {
    const later = String(Math.floor((Date.now() + 365 * DAY) / 1000));
    const expired = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile, '--time', later, '--json');
    assert.equal(expired.code, EXIT_FINDINGS);
    assert.match(expired.out, /"code": "expired"/);
    const deep = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile, '--max-depth', '1');
    assert.equal(deep.code, EXIT_FINDINGS);
    assert.match(deep.out, /chain-too-deep/);
  });

  test('--allow-wildcard', async () => {
    const w = issueCertificate({ cn: 'w', issuer: ca, san: { dns: ['*.example.com'] } });
    const wf = file('wild.pem', w.pem + ca.pem);
    assert.equal((await run('cert', 'verify', '--chain', wf, '--domain', 'sip.example.com', '--ca', rootFile)).code, EXIT_FINDINGS);
    const ok = await run('cert', 'verify', '--chain', wf, '--domain', 'sip.example.com', '--ca', rootFile, '--allow-wildcard');
    assert.equal(ok.code, EXIT_OK);
    assert.match(ok.out, /wildcard/);
  });

  test('without --ca the bundled roots are used: a private CA is unknown', async () => {
    const r = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--json');
    assert.equal(r.code, EXIT_FINDINGS);
    assert.match(r.out, /unknown-ca/);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await run('cert', 'verify', '--domain', 'example.com')).code, EXIT_USAGE);
    assert.equal((await run('cert', 'verify', '--chain', chainFile)).code, EXIT_USAGE);
    assert.equal((await run('cert', 'check', '--chain', chainFile)).code, EXIT_USAGE);
    assert.equal((await run('cert', 'verify', '--chain', path.join(dir, 'missing.pem'), '--domain', 'x')).code, EXIT_USAGE);
    assert.equal((await run('cert', 'verify', '--chain', file('junk.pem', 'junk'), '--domain', 'x')).code, EXIT_USAGE);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'x', '--time', 'yesterday')).code, EXIT_USAGE);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'x', '--max-depth', '0')).code, EXIT_USAGE);
  });
});

describe('sipsec tlsa generate and sipsec dane verify', () => {
  test('the generated record authenticates the chain (3 1 1 by default)', async () => {
    const g = await run('tlsa', 'generate', '--cert', leafFile, '--host', 'sip1.example.net', '--port', '5061');
    assert.equal(g.code, EXIT_OK);
    const match = /^_5061\._tcp\.sip1\.example\.net\. IN TLSA (3 1 1 [0-9A-F]{64})\n$/.exec(g.out);
    assert.ok(match, g.out);
    const v = await run('dane', 'verify', '--tlsa', match[1] ?? '', '--chain', chainFile);
    assert.equal(v.code, EXIT_OK, v.out);
    assert.match(v.out, /method dane-ee/);
  });

  test('DANE-TA from the last certificate of the file; names decide', async () => {
    const g = await run('tlsa', 'generate', '--cert', chainFile, '--usage', '2', '--selector', '0', '--mtype', '2', '--host', 'sip1.example.net', '--port', '5061');
    const record = g.out.split(' IN TLSA ')[1]?.trim() ?? '';
    assert.match(record, /^2 0 2 /);
    const ok = await run('dane', 'verify', '--tlsa', record, '--chain', chainFile, '--name', 'sip1.example.net');
    assert.equal(ok.code, EXIT_OK, ok.out);
    assert.match(ok.out, /dane-ta match at depth 1/);
    const wrongName = await run('dane', 'verify', '--tlsa', record, '--chain', chainFile, '--name', 'sip9.example.net', '--json');
    assert.equal(wrongName.code, EXIT_FINDINGS);
    assert.match(wrongName.out, /name-mismatch/);
  });

  test('repeated --tlsa and --name; --time decides DANE-TA validity but not DANE-EE', async () => {
    const ta = (await run('tlsa', 'generate', '--cert', chainFile, '--usage', '2', '--selector', '1', '--mtype', '1', '--host', 'h', '--port', '5061')).out.split(' IN TLSA ')[1]?.trim() ?? '';
    const ee = (await run('tlsa', 'generate', '--cert', leafFile, '--host', 'h', '--port', '5061')).out.split(' IN TLSA ')[1]?.trim() ?? '';
    const stale = `3 1 1 ${'00'.repeat(32)}`;
    // Any record of the RRset may match; any name may be the one the certificate carries.
    const both = await run('dane', 'verify', '--tlsa', stale, '--tlsa', ta, '--chain', chainFile, '--name', 'sip9.example.net', '--name', 'sip1.example.net', '--json');
    assert.equal(both.code, EXIT_OK, both.out);
    const verdict = JSON.parse(both.out) as { method: string; matchedIdentity: string };
    assert.equal(verdict.method, 'dane-ta');
    assert.equal(verdict.matchedIdentity, 'sip1.example.net');
    assert.equal((await run('dane', 'verify', '--tlsa', stale, '--tlsa', ta, '--chain', chainFile, '--name', 'sip9.example.net')).code, EXIT_FINDINGS);
    const later = String(Math.floor((Date.now() + 365 * DAY) / 1000));
    const expired = await run('dane', 'verify', '--tlsa', ta, '--chain', chainFile, '--name', 'sip1.example.net', '--time', later, '--json');
    assert.equal(expired.code, EXIT_FINDINGS);
    assert.match(expired.out, /"code": "expired"/);
    // DANE-EE ignores dates (RFC 7671 section 5.1).
    assert.equal((await run('dane', 'verify', '--tlsa', ee, '--chain', chainFile, '--time', later)).code, EXIT_OK);
    assert.equal((await run('dane', 'verify', '--tlsa', ee, '--chain', chainFile, '--time', 'soon')).code, EXIT_USAGE);
  });

  test('PKIX-TA uses --ca', async () => {
    const record = `0 1 1 ${(await run('tlsa', 'generate', '--cert', rootFile, '--usage', '0', '--host', 'h', '--port', '5061')).out.split(' ').at(-1)?.trim() ?? ''}`;
    assert.match(record, /^0 1 1 [0-9A-F]{64}$/);
    assert.equal((await run('dane', 'verify', '--tlsa', record, '--chain', chainFile, '--name', 'example.com', '--ca', rootFile)).code, EXIT_OK);
    assert.equal((await run('dane', 'verify', '--tlsa', record, '--chain', chainFile, '--name', 'example.com')).code, EXIT_FINDINGS);
  });

  test('an OpenSSL vector from files: danetest.in block 19 (DANE-TA at the root, depth 2)', async () => {
    const block = readOpensslDaneFile('danetest.in')[18];
    assert.ok(block);
    const chain = file('block19.pem', block.chain.map((der) => encodePemCertificate(der)).join(''));
    const args = block.records.flatMap((r) => ['--tlsa', formatTlsaRecord(r)]);
    const r = await run('dane', 'verify', ...args, '--chain', chain, '--name', 'example.com', '--ca', path.join(daneTestdataDir(), 'openssl', 'danetest.pem'), '--json');
    assert.equal(r.code, EXIT_OK, r.out);
    assert.equal((JSON.parse(r.out) as { dane: { match: { depth: number } } }).dane.match.depth, 2);
  });

  test('a record that matches nothing exits 1; usage errors exit 2', async () => {
    assert.equal((await run('dane', 'verify', '--tlsa', `3 1 1 ${'00'.repeat(32)}`, '--chain', chainFile)).code, EXIT_FINDINGS);
    assert.equal((await run('dane', 'verify', '--chain', chainFile)).code, EXIT_USAGE);
    assert.equal((await run('dane', 'verify', '--tlsa', '3 1', '--chain', chainFile)).code, EXIT_USAGE);
    assert.equal((await run('dane', 'verify', '--tlsa', '3 1 1 00')).code, EXIT_USAGE);
    assert.equal((await run('tlsa', 'generate', '--cert', leafFile, '--host', 'h')).code, EXIT_USAGE);
    assert.equal((await run('tlsa', 'generate', '--cert', leafFile, '--host', 'h', '--port', '5061', '--usage', '4')).code, EXIT_USAGE);
    assert.equal((await run('tlsa', 'make')).code, EXIT_USAGE);
  });
});
