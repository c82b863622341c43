/**
 * Readers for the shared DANE test vectors (test/fixtures/dane): OpenSSL's danetest.in block
 * format (openssl/FORMAT.md) and GnuTLS's cases (gnutls_cases.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TlsaRecord } from '../../src/dns/tlsa-record.js';
import { decodePemCertificates } from '../../src/tls/certificate.js';
import { parseTlsaRecord } from '../../src/tls/tlsa.js';
import { daneTestdataDir } from './tls-repo-root.js';

export interface OpensslDaneBlock {
  /** 1-based block number, as FORMAT.md numbers them. */
  readonly index: number;
  readonly line: number;
  readonly records: readonly TlsaRecord[];
  readonly chain: readonly Buffer[];
  readonly noNameChecks: boolean;
  /** OpenSSL X509_V_* result: 0 ok, 20 unable to get issuer locally, 62 hostname mismatch, 65 DANE no match. */
  readonly expectedResult: number;
  readonly expectedDepth: number;
}

/** Parses a danetest.in-style file exactly as OpenSSL's danetest.c reads it. */
export function parseOpensslDaneFile(text: string): OpensslDaneBlock[] {
  const lines = text.split('\n');
  const blocks: OpensslDaneBlock[] = [];
  let i = 0;
  const isSkippable = (line: string): boolean => line.trim() === '' || line.trimStart().startsWith('#');
  while (i < lines.length) {
    if (isSkippable(lines[i] ?? '')) {
      i++;
      continue;
    }
    const headerLine = i + 1;
    const header = (lines[i++] ?? '').trim().split(/\s+/).map(Number);
    if (header.length !== 5 || header.some((n) => !Number.isInteger(n))) throw new Error(`line ${headerLine}: bad block header`);
    const [tlsaCount, certCount, noNameChecks, expectedResult, expectedDepth] = header as [number, number, number, number, number];
    const records: TlsaRecord[] = [];
    while (records.length < tlsaCount) {
      const line = lines[i++];
      if (line === undefined) throw new Error(`line ${headerLine}: file ends inside the TLSA lines`);
      if (isSkippable(line)) continue;
      records.push(parseTlsaRecord(line));
    }
    // The PEM reader skips any text (comments, surplus TLSA-looking lines) before each block.
    const chain: Buffer[] = [];
    while (chain.length < certCount) {
      while (i < lines.length && !(lines[i] ?? '').startsWith('-----BEGIN CERTIFICATE-----')) i++;
      const start = i;
      while (i < lines.length && !(lines[i] ?? '').startsWith('-----END CERTIFICATE-----')) i++;
      if (i >= lines.length) throw new Error(`line ${headerLine}: file ends inside the certificates`);
      i++;
      chain.push(...decodePemCertificates(lines.slice(start, i).join('\n')));
    }
    blocks.push({ index: blocks.length + 1, line: headerLine, records, chain, noNameChecks: noNameChecks === 1, expectedResult, expectedDepth });
  }
  return blocks;
}

export function readOpensslDaneFile(name: 'danetest.in' | 'dane-cross.in'): OpensslDaneBlock[] {
  return parseOpensslDaneFile(readFileSync(path.join(daneTestdataDir(), 'openssl', name), 'utf8'));
}

export function readOpensslPem(name: 'danetest.pem' | 'cross-root.pem'): string {
  return readFileSync(path.join(daneTestdataDir(), 'openssl', name), 'utf8');
}

export interface GnutlsCase {
  readonly name: string;
  readonly tlsa_rdata_hex: readonly string[];
  readonly tlsa_presentation: readonly string[];
  readonly expected_ret: string;
  readonly secure: string;
  readonly bogus: string;
  readonly expected_status?: string;
  readonly expected_verify_ret?: string;
  readonly cert_pem?: string;
  readonly ca_pem?: string;
}

export interface GnutlsCases {
  readonly verification_time_unix: number;
  readonly cases: readonly GnutlsCase[];
}

export function readGnutlsCases(): GnutlsCases {
  return JSON.parse(readFileSync(path.join(daneTestdataDir(), 'gnutls_cases.json'), 'utf8')) as GnutlsCases;
}
