/**
 * A private CA and its certificates, made at run time, in process (tools for demos and tests on one
 * machine): EC P-256 keys from node:crypto, certificates
 * encoded with @peculiar/asn1-x509 and signed with node:crypto. Every field a test needs to vary
 * (names, SAN URIs, dates, CA flags, key usages, critical extensions) is a parameter.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, BasicConstraints, Certificate,
  ExtendedKeyUsage, Extension, Extensions, GeneralName, KeyUsage, Name, RelativeDistinguishedName,
  SubjectAlternativeName, SubjectKeyIdentifier, AuthorityKeyIdentifier, KeyIdentifier, SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
  id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, id_ce_subjectKeyIdentifier, id_ce_authorityKeyIdentifier,
} from '@peculiar/asn1-x509';
import { encodePemCertificate } from '../tls/certificate.js';

export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
export const EKU_SIP_DOMAIN = '1.3.6.1.5.5.7.3.20';

export interface TestCertificate {
  readonly der: Buffer;
  readonly pem: string;
  readonly key: KeyObject;
  readonly keyPem: string;
  readonly name: Name;
  readonly spki: Buffer;
  readonly subjectKeyId: Buffer;
}

export interface CertificateSpec {
  /** Subject attributes; all absent gives an empty subject. */
  readonly cn?: string;
  readonly o?: string;
  readonly ou?: string;
  /** The issuing CA; absent: self-signed. */
  readonly issuer?: TestCertificate;
  /** basicConstraints cA:TRUE (with optional pathLen); absent: no basicConstraints for a leaf. */
  readonly ca?: boolean | { readonly pathLen: number };
  /** subjectAltName entries; absent: no subjectAltName extension at all. */
  readonly san?: { readonly dns?: readonly string[]; readonly uri?: readonly string[] };
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly eku?: readonly string[];
  /** KeyUsage bits (KeyUsageFlags); default: digitalSignature for leaves, keyCertSign|cRLSign for CAs. */
  readonly keyUsage?: number;
  /** OIDs of extra extensions marked critical (empty value), to test unknown critical extensions. */
  readonly criticalOids?: readonly string[];
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const DAY_MS = 86_400_000;

export function issueCertificate(spec: CertificateSpec): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subjectKeyId = createHash('sha1').update(spki).digest();
  const name = buildName(spec);
  const issuerName = spec.issuer?.name ?? name;
  const signingKey = spec.issuer?.key ?? privateKey;
  const now = Date.now();
  const extensions: Extension[] = [];
  const isCa = spec.ca !== undefined && spec.ca !== false;
  if (isCa) {
    const pathLen = typeof spec.ca === 'object' ? spec.ca.pathLen : undefined;
    extensions.push(ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, ...(pathLen !== undefined ? { pathLenConstraint: pathLen } : {}) })));
  }
  const ku = spec.keyUsage ?? (isCa ? 32 | 64 : 1);
  extensions.push(ext(id_ce_keyUsage, true, new KeyUsage(ku)));
  if (spec.eku) extensions.push(ext(id_ce_extKeyUsage, false, new ExtendedKeyUsage([...spec.eku])));
  if (spec.san) {
    const names = [
      ...(spec.san.dns ?? []).map((dNSName) => new GeneralName({ dNSName })),
      ...(spec.san.uri ?? []).map((uniformResourceIdentifier) => new GeneralName({ uniformResourceIdentifier })),
    ];
    extensions.push(ext(id_ce_subjectAltName, false, new SubjectAlternativeName(names)));
  }
  extensions.push(ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(subjectKeyId)));
  const authorityKeyId = spec.issuer?.subjectKeyId ?? subjectKeyId;
  extensions.push(ext(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) })));
  for (const oid of spec.criticalOids ?? []) {
    extensions.push(new Extension({ extnID: oid, critical: true, extnValue: new OctetString(Buffer.from([0x05, 0x00])) }));
  }
  const serial = randomBytes(16);
  // Positive and minimal DER: top bit clear (not negative), next bit set (no leading zero octet).
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: algorithm,
    issuer: issuerName,
    validity: new Validity({
      notBefore: spec.notBefore ?? new Date(now - DAY_MS),
      notAfter: spec.notAfter ?? new Date(now + 30 * DAY_MS),
    }),
    subject: name,
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, signingKey);
  const certificate = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: toArrayBuffer(signature) });
  const der = Buffer.from(AsnConvert.serialize(certificate));
  return {
    der,
    pem: encodePemCertificate(der),
    key: privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    name,
    spki,
    subjectKeyId,
  };
}

/** A root CA, an intermediate CA below it, for the common two-level hierarchy. */
export function issueHierarchy(prefix: string): { root: TestCertificate; intermediate: TestCertificate } {
  const root = issueCertificate({ cn: `${prefix} Root CA`, o: 'sipsec tests', ca: true });
  const intermediate = issueCertificate({ cn: `${prefix} Issuing CA`, o: 'sipsec tests', ca: true, issuer: root });
  return { root, intermediate };
}

function buildName(spec: CertificateSpec): Name {
  const rdns: RelativeDistinguishedName[] = [];
  const add = (type: string, value: string | undefined): void => {
    if (value !== undefined) rdns.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]));
  };
  add('2.5.4.10', spec.o);
  add('2.5.4.11', spec.ou);
  add('2.5.4.3', spec.cn);
  return new Name(rdns);
}

function ext(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
