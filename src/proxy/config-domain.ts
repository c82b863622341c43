/**
 * One `domains:` entry checked as the proxy will use it: the chain file parses and starts with the
 * leaf, the leaf's SIP domain identities (RFC 5922 section 7.1) cover the domain, it is valid now,
 * and the key file holds the leaf's private key. Everything found is recorded, not thrown.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { decodeCertificateFile, encodePemCertificate, parseCertificate, type ParsedCertificate } from '../tls/certificate.js';
import { TlsError } from '../tls/errors.js';
import { extractSipDomainIdentities, matchHostName, matchSipDomain } from '../tls/identity.js';
import { renderReason } from '../tls/reasons.js';
import type { LoadContext } from './config-context.js';
import type { KeyPath } from './config-issues.js';

/** A SIP domain this process serves, with the certificate it presents for it (server and client). */
export interface ProxyDomain {
  /** The domain, lower case, A-labels. */
  readonly name: string;
  readonly certificateFile: string;
  readonly keyFile: string;
  /** The chain as PEM, leaf first (what TLS sends): `cert` and `key` fit Node's tls options as they are. */
  readonly cert: string;
  readonly key: string;
  readonly chain: readonly ParsedCertificate[];
  /** The leaf's SIP domain identities by RFC 5922 section 7.1 (SAN URIs, else dNSNames, else CN). */
  readonly identities: readonly string[];
}

/** The certificates of a file, or undefined with the fault recorded at `at`. */
export function readCertificates(ctx: LoadContext, at: KeyPath, file: string, bytes: Buffer): ParsedCertificate[] | undefined {
  let ders: Buffer[];
  try {
    ders = decodeCertificateFile(bytes).ders;
  } catch (err) {
    if (!(err instanceof TlsError)) throw err;
    ctx.fail(at, `${file}: ${err.message}`);
    return undefined;
  }
  const chain: ParsedCertificate[] = [];
  for (const [i, der] of ders.entries()) {
    try {
      chain.push(parseCertificate(der));
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      ctx.fail(at, `${file}: certificate ${i + 1} does not parse: ${err.message}`);
      return undefined;
    }
  }
  return chain;
}

/**
 * A chain must start with the leaf: a first certificate that issued a later one, or is a CA, means
 * the file is upside down or holds only the CA. Intermediates out of order work with TLS 1.3 peers
 * but not with every TLS 1.2 one (RFC 5246 section 7.4.2): a warning.
 */
function checkLeafFirst(ctx: LoadContext, at: KeyPath, file: string, chain: readonly ParsedCertificate[]): boolean {
  const leaf = chain[0] as ParsedCertificate;
  const issued = chain.findIndex((cert, i) => i > 0 && !leaf.selfIssued && cert.raw.issuer.equals(leaf.raw.subject));
  if (issued > 0) {
    ctx.fail(at, `${file} is not leaf first: certificate 1 (${leaf.subjectText}) issued certificate ${issued + 1}; put the domain's certificate first, then its issuers`);
    return false;
  }
  if (leaf.basicConstraints?.ca === true) {
    ctx.fail(at, `${file} starts with a CA certificate (${leaf.subjectText}): put the domain's own certificate first, then its issuers`);
    return false;
  }
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i - 1] as ParsedCertificate;
    if (child.selfIssued || (chain[i] as ParsedCertificate).raw.subject.equals(child.raw.issuer)) continue;
    if (chain.some((cert, k) => k > i && cert.raw.subject.equals(child.raw.issuer))) {
      ctx.warn(at, `${file}: the issuer of certificate ${i} comes later than certificate ${i + 1}; TLS 1.2 peers need the chain in order`);
      break;
    }
  }
  return true;
}

/** The key of a key file, or undefined with the fault recorded, naming the likely mix-up. */
function readPrivateKey(ctx: LoadContext, at: KeyPath, file: string, text: string): KeyObject | undefined {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    ctx.fail(at, `${file} is encrypted: sipsec proxy reads an unencrypted key (protect it with the file's mode, 600)`);
    return undefined;
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    ctx.fail(at, /-----BEGIN CERTIFICATE-----/.test(text) ? `${file} holds a certificate, not a private key` : `${file} holds no PEM private key`);
    return undefined;
  }
  try {
    return createPrivateKey(text);
  } catch {
    ctx.fail(at, `${file}: the private key does not parse`);
    return undefined;
  }
}

export async function loadDomain(ctx: LoadContext, key: string, name: string, entry: { certificate: string; key: string }): Promise<ProxyDomain | undefined> {
  const certAt: KeyPath = ['domains', key, 'certificate'];
  const keyAt: KeyPath = ['domains', key, 'key'];
  const certRead = await ctx.read(certAt, entry.certificate);
  const keyRead = await ctx.read(keyAt, entry.key);
  let chain: ParsedCertificate[] | undefined;
  if (certRead !== undefined) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certRead.bytes.toString('latin1')) && !certRead.bytes.includes('-----BEGIN CERTIFICATE-----')) {
      ctx.fail(certAt, `${certRead.file} holds a private key, not a certificate${keyRead?.bytes.includes('-----BEGIN CERTIFICATE-----') === true ? ' (certificate and key are swapped)' : ''}`);
    } else {
      chain = readCertificates(ctx, certAt, certRead.file, certRead.bytes);
    }
  }
  const leafOk = chain !== undefined && checkLeafFirst(ctx, certAt, certRead?.file ?? '', chain);
  const leaf = leafOk ? chain?.[0] : undefined;
  let usable = leaf !== undefined;
  if (leaf !== undefined) {
    const match = matchSipDomain(leaf, name, { allowWildcard: false });
    if (!match.matched) {
      const reason = match.reasons[0];
      ctx.fail(certAt, `the certificate does not cover the domain ${name} (RFC 5922 section 7.1): ${reason === undefined ? 'no match' : renderReason(reason)}`);
      usable = false;
    }
    if (ctx.now < leaf.notBefore) ctx.fail(certAt, `the certificate is not valid before ${leaf.notBefore.toISOString()}`);
    if (ctx.now > leaf.notAfter) ctx.fail(certAt, `the certificate expired at ${leaf.notAfter.toISOString()}`);
    if (ctx.now < leaf.notBefore || ctx.now > leaf.notAfter) usable = false;
  }
  let privateKey: KeyObject | undefined;
  if (keyRead !== undefined) {
    privateKey = readPrivateKey(ctx, keyAt, keyRead.file, keyRead.bytes.toString('utf8'));
    await ctx.warnIfShared(keyAt, keyRead.file, 'a private key');
  }
  if (leaf !== undefined && privateKey !== undefined && !leaf.x509.checkPrivateKey(privateKey)) {
    ctx.fail(keyAt, `${keyRead?.file ?? ''} is not the key of the certificate in ${certRead?.file ?? ''} (${leaf.subjectText})`);
    return undefined;
  }
  if (!usable || chain === undefined || leaf === undefined || privateKey === undefined || certRead === undefined || keyRead === undefined) return undefined;
  return Object.freeze({
    name,
    certificateFile: certRead.file,
    keyFile: keyRead.file,
    cert: chain.map((c) => encodePemCertificate(c.der)).join(''),
    key: keyRead.bytes.toString('utf8'),
    chain: Object.freeze([...chain]),
    identities: Object.freeze([...extractSipDomainIdentities(leaf).identities]),
  });
}

/**
 * Whether this certificate is the one to present for a host name a client asks for by SNI: a SIP
 * domain identity (RFC 5922 section 7.1) or a dNSName host identity. The advertised name of a TLS
 * listener must pass the stricter test of config.ts (a SIP domain identity: what a far proxy's
 * via-trail check compares with).
 */
export function certificateCovers(domain: ProxyDomain, host: string): boolean {
  const leaf = domain.chain[0];
  if (leaf === undefined) return false;
  return matchSipDomain(leaf, host, { allowWildcard: false }).matched || matchHostName(leaf, host, { allowWildcard: false }).matched;
}
