/**
 * Every DANE vector of test/fixtures/dane, run through verifyDane: OpenSSL's danetest.in
 * (54 blocks) and dane-cross.in (1 block), and GnuTLS's tests/dane.c cases.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { daneTestdataDir } from '../../test/support/tls-repo-root.js';
import {
  readGnutlsCases, readOpensslDaneFile, readOpensslPem, type OpensslDaneBlock,
} from '../../test/support/tls-dane-vectors.js';
import { parsePemCertificates } from './certificate.js';
import { decodeTlsaRdata, parseTlsaRecord, selectUsableRecords } from './tlsa.js';
import { TrustStore } from './trust-store.js';
import { verifyDane } from './verify-peer.js';
import { DEFAULT_TLS_POLICY } from './policy.js';
import type { PeerVerdict } from './verdict.js';

// X509_V_* results of the OpenSSL driver and the first reason code sipsec gives for each.
const EXPECTED_REASON: Readonly<Record<number, string>> = {
  20: 'unknown-ca', // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
  62: 'name-mismatch', // X509_V_ERR_HOSTNAME_MISMATCH
  65: 'dane-no-match', // X509_V_ERR_DANE_NO_MATCH
};

function runBlock(block: OpensslDaneBlock, baseDomain: string, store: TrustStore): PeerVerdict {
  return verifyDane({
    chain: block.chain,
    records: block.records,
    references: [{ name: baseDomain, kind: 'sip-domain' }],
    trustStore: store,
    // danetest.c: SHA-512 preferred over SHA-256; DANE_FLAG_NO_DANE_EE_NAMECHECKS when nonamechecks = 1.
    policy: { digestPreference: ['sha2-512', 'sha2-256'], daneEeChecksNames: !block.noNameChecks },
  });
}

function assertBlock(block: OpensslDaneBlock, verdict: PeerVerdict): void {
  const where = `block ${block.index} (line ${block.line})`;
  if (block.expectedResult === 0) {
    assert.equal(verdict.ok, true, `${where}: expected success, got ${JSON.stringify(verdict.reasons)}`);
    assert.equal(verdict.reasons[0]?.code, 'dane-match', where);
  } else {
    assert.equal(verdict.ok, false, `${where}: expected failure ${block.expectedResult}`);
    assert.equal(verdict.reasons[0]?.code, EXPECTED_REASON[block.expectedResult], `${where}: ${JSON.stringify(verdict.reasons)}`);
  }
  const depth = verdict.dane?.match?.depth ?? -1;
  assert.equal(depth, block.expectedDepth, `${where}: match depth`);
}

describe('OpenSSL danetest.in (base domain example.com, CAfile danetest.pem)', () => {
  const blocks = readOpensslDaneFile('danetest.in');
  const store = TrustStore.fromPem(readOpensslPem('danetest.pem'));
  test('the file holds the 54 blocks FORMAT.md lists', () => {
    assert.equal(blocks.length, 54);
  });
  for (const block of blocks) {
    const records = block.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType}`).join(', ');
    test(`block ${block.index}: TLSA [${records}], ${block.chain.length} cert(s) -> ${block.expectedResult} at depth ${block.expectedDepth}`, () => {
      assertBlock(block, runBlock(block, 'example.com', store));
    });
  }
  test('blocks 43 to 46 give the same result with both of their TLSA lines loaded', () => {
    // FORMAT.md: their header says 1 record but two are listed; the driver skips the second as junk.
    const lines = readFileSync(path.join(daneTestdataDir(), 'openssl', 'danetest.in'), 'utf8').split('\n');
    const quirky = blocks.filter((b) => b.index >= 43 && b.index <= 46);
    assert.equal(quirky.length, 4);
    for (const block of quirky) {
      const both = [lines[block.line], lines[block.line + 1]].map((l) => parseTlsaRecord(l ?? ''));
      assert.equal(both.length, 2);
      assertBlock(block, runBlock({ ...block, records: both }, 'example.com', store));
    }
  });
});

describe('OpenSSL dane-cross.in (base domain server.example, CAfile cross-root.pem)', () => {
  const blocks = readOpensslDaneFile('dane-cross.in');
  const store = TrustStore.fromPem(readOpensslPem('cross-root.pem'));
  test('the file holds one block', () => assert.equal(blocks.length, 1));
  for (const block of blocks) {
    test(`block ${block.index}: DANE-TA 2 0 0 on the self-signed Root CA while the server sends the cross-signed one -> depth ${block.expectedDepth}`, () => {
      assertBlock(block, runBlock(block, 'server.example', store));
    });
  }
});

describe('GnuTLS tests/dane.c cases (gnutls_cases.json)', () => {
  const { verification_time_unix: unix, cases } = readGnutlsCases();
  const time = new Date(unix * 1000);
  for (const c of cases) {
    test(`${c.name}: expected status ${c.expected_status ?? '(parse only)'}`, () => {
      // dane_raw_tlsa: the wire RDATA and the presentation form are the same records.
      const records = c.tlsa_rdata_hex.map((hex) => decodeTlsaRdata(Buffer.from(hex, 'hex')));
      assert.deepEqual(records, c.tlsa_presentation.map(parseTlsaRecord));
      assert.equal(c.secure, '1');
      assert.equal(c.bogus, '0');
      if (c.cert_pem === undefined) {
        // "Entry parsing": every record is usable (expected_ret 0).
        assert.equal(selectUsableRecords(records, DEFAULT_TLS_POLICY.digestPreference).usable.length, records.length);
        return;
      }
      const leaf = parsePemCertificates(c.cert_pem);
      const ca = c.ca_pem === undefined ? [] : parsePemCertificates(c.ca_pem);
      // GnuTLS verifies the DANE constraint only (vflags 0); sipsec's PKIX usages also need a PKIX
      // path, so the CA the case supplies is the trust store. The reference identity is the leaf's
      // own domain: GnuTLS does no name check here either.
      const name = leaf[0]?.sanDnsNames.find((n) => !n.startsWith('*')) ?? '';
      const verdict = verifyDane({
        chain: [...leaf, ...ca],
        records,
        references: [{ name, kind: 'host' }],
        trustStore: new TrustStore(ca),
        time,
      });
      if (c.expected_status === '0') {
        assert.equal(verdict.ok, true, JSON.stringify(verdict.reasons));
      } else if (c.expected_status === 'DANE_VERIFY_CERT_DIFFERS' || c.expected_status === 'DANE_VERIFY_CA_CONSTRAINTS_VIOLATED') {
        assert.equal(verdict.ok, false);
        assert.equal(verdict.reasons[0]?.code, 'dane-no-match');
      } else {
        // "bogus data": a PKIX-TA record and no CA certificate presented (DANE_E_REQUESTED_DATA_NOT_AVAILABLE).
        assert.equal(c.expected_verify_ret, 'DANE_E_REQUESTED_DATA_NOT_AVAILABLE');
        assert.equal(verdict.ok, false);
        assert.equal(verdict.reasons[0]?.code, 'dane-no-match');
      }
    });
  }
});
