/** `sipsec cert verify`, `sipsec dane verify`, `sipsec tlsa generate` through runCli, with files on disk. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { REPO_ROOT } from '../../test/support/paths.js';
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
    const verdict = JSON.parse(r.out) as { schema: string; authenticated: boolean; reasons: { code: string }[] };
    assert.equal(verdict.schema, 'sipsec.cert/1');
    assert.equal(verdict.authenticated, false);
    assert.equal(verdict.reasons[0]?.code, 'name-mismatch');
  });

  test('--time and --max-depth', async () => {
    const later = String(Math.floor((Date.now() + 365 * DAY) / 1000));
    const expired = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile, '--time', later, '--json');
    assert.equal(expired.code, EXIT_FINDINGS);
    assert.match(expired.out, /"code":"expired"/);
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
    const match = /^_5061\._tcp\.sip1\.example\.net\. IN TLSA (3 1 1 [0-9a-f]{64})\n$/.exec(g.out);
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
    const verdict = JSON.parse(both.out) as { schema: string; method: string; matchedIdentity: string };
    assert.equal(verdict.schema, 'sipsec.dane/1');
    assert.equal(verdict.method, 'dane-ta');
    assert.equal(verdict.matchedIdentity, 'sip1.example.net');
    assert.equal((await run('dane', 'verify', '--tlsa', stale, '--tlsa', ta, '--chain', chainFile, '--name', 'sip9.example.net')).code, EXIT_FINDINGS);
    const later = String(Math.floor((Date.now() + 365 * DAY) / 1000));
    const expired = await run('dane', 'verify', '--tlsa', ta, '--chain', chainFile, '--name', 'sip1.example.net', '--time', later, '--json');
    assert.equal(expired.code, EXIT_FINDINGS);
    assert.match(expired.out, /"code":"expired"/);
    // DANE-EE ignores dates (RFC 7671 section 5.1).
    assert.equal((await run('dane', 'verify', '--tlsa', ee, '--chain', chainFile, '--time', later)).code, EXIT_OK);
    assert.equal((await run('dane', 'verify', '--tlsa', ee, '--chain', chainFile, '--time', 'soon')).code, EXIT_USAGE);
  });

  test('PKIX-TA uses --ca', async () => {
    const record = `0 1 1 ${(await run('tlsa', 'generate', '--cert', rootFile, '--usage', '0', '--host', 'h', '--port', '5061')).out.split(' ').at(-1)?.trim() ?? ''}`;
    assert.match(record, /^0 1 1 [0-9a-f]{64}$/);
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

const leafLine = async (certFile: string, ...more: string[]): Promise<string> =>
  (await run('tlsa', 'generate', '--cert', certFile, '--host', 'sip1.example.net', '--port', '5061', ...more)).out.trim();
const json = (out: string): { authenticated: boolean; method: string; reasons: { severity: string; code: string; text: string }[] } => {
  assert.equal(out.indexOf('\n'), out.length - 1, 'one document on one line, newline-terminated');
  return JSON.parse(out) as { authenticated: boolean; method: string; reasons: { severity: string; code: string; text: string }[] };
};
const mainJs = path.join(REPO_ROOT, 'dist/src/cli/main.js');

describe('right words (issue 11 item 6)', () => {
  test('a pathLenConstraint violation is path-length-exceeded, not chain-too-deep', async () => {
    const limited = issueCertificate({ cn: 'Limited CA', ca: { pathLen: 0 }, issuer: root });
    const sub = issueCertificate({ cn: 'Sub CA', ca: true, issuer: limited });
    const deepLeaf = issueCertificate({ cn: 'd', issuer: sub, san: { uri: ['sip:example.com'] } });
    const r = await run('cert', 'verify', '--chain', file('pathlen.pem', deepLeaf.pem + sub.pem + limited.pem), '--domain', 'example.com', '--ca', rootFile, '--json');
    assert.equal(r.code, EXIT_FINDINGS);
    assert.deepEqual(json(r.out).reasons.map((x) => x.code), ['path-length-exceeded']);
    assert.match(json(r.out).reasons[0]?.text ?? '', /CN=Limited CA\) allows 0 intermediate/);
  });

  test('DANE-TA without --name says the name is missing', async () => {
    const ta = (await leafLine(chainFile, '--usage', '2')).split(' IN TLSA ')[1] ?? '';
    const r = await run('dane', 'verify', '--tlsa', ta, '--chain', chainFile, '--json');
    assert.equal(r.code, EXIT_FINDINGS);
    assert.deepEqual(json(r.out).reasons.map((x) => x.code), ['no-reference-identity']);
    assert.match(r.err, /give --name HOST/);
  });

  test('tlsa generate refuses an invalid host and an IP address, saying so', async () => {
    const bad = await run('tlsa', 'generate', '--cert', leafFile, '--host', 'sip 1.example.net', '--port', '5061');
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /--host: "sip 1\.example\.net" is not a valid host name/);
    const ip = await run('tlsa', 'generate', '--cert', leafFile, '--host', '192.0.2.10', '--port', '5061');
    assert.equal(ip.code, EXIT_USAGE);
    assert.match(ip.err, /--host: "192\.0\.2\.10" is an IP address/);
    assert.match((await run('tlsa', 'generate', '--cert', leafFile, '--host=-x.example', '--port', '5061')).err, /inner hyphens/);
  });

  test('IDN: tlsa generate and cert verify both take the A-label', async () => {
    const g = await run('tlsa', 'generate', '--cert', leafFile, '--host', 'Bücher.example', '--port', '5061');
    assert.equal(g.code, EXIT_OK, g.err);
    assert.match(g.out, /^_5061\._tcp\.xn--bcher-kva\.example\. IN TLSA 3 1 1 /);
    const idn = issueCertificate({ cn: 'idn', issuer: ca, san: { uri: ['sip:xn--bcher-kva.example'] } });
    const idnChain = file('idn.pem', idn.pem + ca.pem);
    for (const domain of ['bücher.example', 'BÜCHER.example.', 'xn--bcher-kva.example']) {
      const v = await run('cert', 'verify', '--chain', idnChain, '--domain', domain, '--ca', rootFile, '--json');
      assert.equal(v.code, EXIT_OK, domain + v.out + v.err);
    }
    assert.equal((await run('cert', 'verify', '--chain', idnChain, '--domain', 'bad name', '--ca', rootFile)).code, EXIT_USAGE);
    assert.equal((await run('dane', 'verify', '--tlsa', '3 1 1 00', '--chain', idnChain, '--name', '1.2.3')).code, EXIT_USAGE);
  });

  test('a repeated single-valued option is an error, not silently the last', async () => {
    const r = await run('cert', 'verify', '--chain', chainFile, '--chain', leafFile, '--domain', 'example.com', '--ca', rootFile);
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /--chain given 2 times/);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--domain', 'example.org', '--ca', rootFile)).code, EXIT_USAGE);
    assert.equal((await run('dane', 'verify', '--tlsa', '3 1 1 00', '--chain', chainFile, '--chain', chainFile)).code, EXIT_USAGE);
    assert.equal((await run('tlsa', 'generate', '--cert', leafFile, '--host', 'a.example', '--host', 'b.example', '--port', '5061')).code, EXIT_USAGE);
  });

  test('a chain file in the wrong order says so', async () => {
    const reversed = await run('cert', 'verify', '--chain', file('reversed.pem', ca.pem + leaf.pem), '--domain', 'example.com', '--ca', rootFile);
    assert.equal(reversed.code, EXIT_USAGE);
    assert.match(reversed.err, /not in order: certificate 1 \(CN=CLI CA\) issued certificate 2 \(CN=sip1\.example\.net\); put the leaf first/);
    // Intermediates shuffled: verified (any order builds), with a warning.
    const shuffled = await run('cert', 'verify', '--chain', file('shuffled.pem', leaf.pem + root.pem + ca.pem), '--domain', 'example.com', '--ca', rootFile);
    assert.equal(shuffled.code, EXIT_OK, shuffled.err);
    assert.match(shuffled.err, /out of order: the issuer of certificate 1 \(CN=sip1\.example\.net\) is certificate 3, not 2/);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile)).err, '');
  });

  test('tlsa generate --usage 2 on a leaf alone warns that no CA is in the file', async () => {
    const r = await run('tlsa', 'generate', '--cert', leafFile, '--usage', '2', '--host', 'sip1.example.net', '--port', '5061');
    assert.equal(r.code, EXIT_OK);
    assert.match(r.err, /warning: --usage 2 names a CA, but no CA is in .*leaf\.pem/);
    assert.equal((await run('tlsa', 'generate', '--cert', chainFile, '--usage', '2', '--host', 'sip1.example.net', '--port', '5061')).err, '');
  });
});

describe('inputs people have (issue 11 item 7)', () => {
  test('DER for --chain, --ca and --cert, detected', async () => {
    const derChain = file('chain.der', '');
    writeFileSync(derChain, Buffer.concat([leaf.der, ca.der]));
    const derRoot = path.join(dir, 'root.der');
    writeFileSync(derRoot, root.der);
    assert.equal((await run('cert', 'verify', '--chain', derChain, '--domain', 'example.com', '--ca', derRoot)).code, EXIT_OK);
    const derLeaf = path.join(dir, 'leaf.der');
    writeFileSync(derLeaf, leaf.der);
    assert.equal(await leafLine(derLeaf), await leafLine(leafFile));
    const notCert = await run('cert', 'verify', '--chain', file('text.txt', 'hello'), '--domain', 'example.com');
    assert.match(notCert.err, /neither PEM .* nor DER/);
  });

  test('--ca DIR takes every certificate file in it; an empty one is an error', async () => {
    const caDir = path.join(dir, 'cadir');
    mkdirSync(caDir);
    writeFileSync(path.join(caDir, 'README'), 'not a certificate\n');
    writeFileSync(path.join(caDir, 'other.pem'), issueCertificate({ cn: 'Other', ca: true }).pem);
    writeFileSync(path.join(caDir, 'root.der'), root.der);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', caDir)).code, EXIT_OK);
    const empty = path.join(dir, 'emptydir');
    mkdirSync(empty);
    const r = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', empty);
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /no certificate in directory/);
  });

  test('--ca system is the operating system bundle (joined with other --ca values)', { skip: !existsSync('/etc/ssl/certs/ca-certificates.crt') && 'no Debian CA bundle here' }, async () => {
    const r = await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', 'system', '--json');
    assert.equal(r.code, EXIT_FINDINGS, r.err);
    assert.deepEqual(json(r.out).reasons.map((x) => x.code), ['unknown-ca']);
    assert.equal((await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', 'system', '--ca', rootFile)).code, EXIT_OK);
  });

  test("'-' reads standard input, once", () => {
    const ok = spawnSync(process.execPath, [mainJs, 'cert', 'verify', '--chain', '-', '--domain', 'example.com', '--ca', rootFile], { input: leaf.pem + ca.pem, encoding: 'utf8' });
    assert.equal(ok.status, EXIT_OK, ok.stderr);
    const g = spawnSync(process.execPath, [mainJs, 'tlsa', 'generate', '--cert', '-', '--host', 'sip1.example.net', '--port', '5061'], { input: leaf.der });
    assert.equal(g.status, EXIT_OK, String(g.stderr));
    const twice = spawnSync(process.execPath, [mainJs, 'cert', 'verify', '--chain', '-', '--domain', 'example.com', '--ca', '-'], { input: leaf.pem, encoding: 'utf8' });
    assert.equal(twice.status, EXIT_USAGE);
    assert.match(twice.stderr, /--ca: standard input \(-\) is already read by --chain/);
  });

  test('--max-depth N allows what openssl -verify_depth N-1 allows; an intermediate as --ca is an anchor (openssl: -partial_chain)', async () => {
    const caFile = file('ca-only.pem', ca.pem);
    const openssl = (...args: string[]): number | null => spawnSync('openssl', ['verify', ...args, leafFile], { encoding: 'utf8' }).status;
    for (const depth of [1, 2]) {
      const ours = (await run('cert', 'verify', '--chain', chainFile, '--domain', 'example.com', '--ca', rootFile, '--max-depth', String(depth))).code === EXIT_OK;
      const theirs = openssl('-CAfile', rootFile, '-untrusted', caFile, '-verify_depth', String(depth - 1)) === 0;
      assert.equal(ours, theirs, `depth ${depth}`);
      assert.equal(ours, depth === 2);
    }
    assert.equal((await run('cert', 'verify', '--chain', leafFile, '--domain', 'example.com', '--ca', caFile)).code, EXIT_OK);
    assert.notEqual(openssl('-CAfile', caFile), 0);
    assert.equal(openssl('-CAfile', caFile, '-partial_chain'), 0);
  });
});

describe('one output style (issue 11 item 5)', () => {
  test('dane verify takes the exact line tlsa generate prints, and RFC 7218 mnemonics', async () => {
    const line = await leafLine(leafFile);
    assert.match(line, /^_5061\._tcp\.sip1\.example\.net\. IN TLSA 3 1 1 [0-9a-f]{64}$/);
    assert.equal((await run('dane', 'verify', '--tlsa', line, '--chain', chainFile)).code, EXIT_OK);
    const hex = line.split(' ').at(-1) ?? '';
    assert.equal((await run('dane', 'verify', '--tlsa', `DANE-EE SPKI SHA2-256 ${hex.toUpperCase()}`, '--chain', chainFile)).code, EXIT_OK);
    const bad = await run('dane', 'verify', '--tlsa', `DANE-XX SPKI SHA2-256 ${hex}`, '--chain', chainFile);
    assert.equal(bad.code, EXIT_USAGE);
    assert.match(bad.err, /usage must be a number from 0 to 255 or one of PKIX-TA, PKIX-EE, DANE-TA, DANE-EE/);
  });

  test('JSON: one line, authenticated, reasons with severity; tlsa generate --json', async () => {
    const line = await leafLine(leafFile);
    const v = json((await run('dane', 'verify', '--tlsa', line, '--chain', chainFile, '--json')).out);
    assert.equal(v.authenticated, true);
    assert.equal('ok' in v || 'proceed' in v, false);
    assert.deepEqual(v.reasons.map((r) => [r.severity, r.code]), [['note', 'dane-match']]);
    const text = await run('dane', 'verify', '--tlsa', line, '--chain', chainFile);
    assert.match(text.out, /^- note: dane-match: dane-ee record 3 1 1 [0-9a-f]{64} matched/m);
    const g = await run('tlsa', 'generate', '--cert', leafFile, '--host', 'sip1.example.net', '--port', '5061', '--json');
    assert.equal(g.out.indexOf('\n'), g.out.length - 1);
    const record = JSON.parse(g.out) as { schema: string; owner: string; usage: number; data: string; record: string };
    assert.equal(record.schema, 'sipsec.tlsa/1');
    assert.equal(record.owner, '_5061._tcp.sip1.example.net.');
    assert.equal(`${record.owner} IN TLSA ${record.record}`, line);
    assert.match(record.data, /^[0-9a-f]{64}$/);
  });
});
