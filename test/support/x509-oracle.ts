/**
 * The oracle for src/tls/x509-reader.ts: the same certificate fields read with @peculiar/asn1-x509,
 * the schema-driven parser sipsec used before its own DER reader. Slow (about 2 ms a certificate)
 * and only for tests: the reader must agree with it on every certificate the tests can find.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier, BasicConstraints, Certificate, ExtendedKeyUsage, KeyUsage, KeyUsageFlags,
  SubjectAlternativeName, SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier, id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage,
  id_ce_subjectAltName, id_ce_subjectKeyIdentifier, type Name,
} from '@peculiar/asn1-x509';
import type { ParsedCertificate } from '../../src/tls/certificate.js';

/** The fields of a ParsedCertificate that come from the DER, in a form deepEqual can compare. */
export interface ComparableFields {
  subject: string[][];
  issuer: string[][];
  hasSubjectAltName: boolean;
  sanDnsNames: string[];
  sanUris: string[];
  notBefore: number;
  notAfter: number;
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  keyUsage: string[] | undefined;
  extKeyUsage: string[] | undefined;
  subjectKeyId: string | undefined;
  authorityKeyId: string | undefined;
  criticalOids: string[];
}

const KEY_USAGE_BITS: readonly [string, number][] = [
  ['digitalSignature', KeyUsageFlags.digitalSignature], ['nonRepudiation', KeyUsageFlags.nonRepudiation],
  ['keyEncipherment', KeyUsageFlags.keyEncipherment], ['dataEncipherment', KeyUsageFlags.dataEncipherment],
  ['keyAgreement', KeyUsageFlags.keyAgreement], ['keyCertSign', KeyUsageFlags.keyCertSign],
  ['cRLSign', KeyUsageFlags.cRLSign], ['encipherOnly', KeyUsageFlags.encipherOnly], ['decipherOnly', KeyUsageFlags.decipherOnly],
];

function nameOf(name: Name): string[][] {
  // Array.from: plain arrays, not @peculiar's Name and RDN classes, so deepEqual compares contents.
  return Array.from(name, (rdn) => Array.from(rdn, (atv) => `${atv.type}=${atv.value.toString()}`));
}

/** Reads with @peculiar/asn1-x509; the critical extensions are listed whatever they are. */
export function oracleFields(der: Uint8Array): ComparableFields {
  const tbs = AsnConvert.parse(der, Certificate).tbsCertificate;
  const fields: ComparableFields = {
    subject: nameOf(tbs.subject),
    issuer: nameOf(tbs.issuer),
    hasSubjectAltName: false,
    sanDnsNames: [],
    sanUris: [],
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    basicConstraints: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    subjectKeyId: undefined,
    authorityKeyId: undefined,
    criticalOids: [],
  };
  for (const ext of tbs.extensions ?? []) {
    const value = ext.extnValue.buffer;
    if (ext.critical) fields.criticalOids.push(ext.extnID);
    switch (ext.extnID) {
      case id_ce_subjectAltName:
        fields.hasSubjectAltName = true;
        for (const n of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (n.dNSName !== undefined) fields.sanDnsNames.push(n.dNSName);
          if (n.uniformResourceIdentifier !== undefined) fields.sanUris.push(n.uniformResourceIdentifier);
        }
        break;
      case id_ce_basicConstraints: {
        const bc = AsnConvert.parse(value, BasicConstraints);
        fields.basicConstraints = { ca: bc.cA, pathLen: bc.pathLenConstraint };
        break;
      }
      case id_ce_keyUsage: {
        const bits = AsnConvert.parse(value, KeyUsage).toNumber();
        fields.keyUsage = KEY_USAGE_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([n]) => n);
        break;
      }
      case id_ce_extKeyUsage:
        fields.extKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
        break;
      case id_ce_subjectKeyIdentifier:
        fields.subjectKeyId = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer).toString('hex');
        break;
      case id_ce_authorityKeyIdentifier: {
        const aki = AsnConvert.parse(value, AuthorityKeyIdentifier);
        if (aki.keyIdentifier !== undefined) fields.authorityKeyId = Buffer.from(aki.keyIdentifier.buffer).toString('hex');
        break;
      }
    }
  }
  return fields;
}

/** The same fields of sipsec's parse. Names are rendered from the reader's own name structure. */
export function sipsecFields(cert: ParsedCertificate, names: { subject: string[][]; issuer: string[][] }, criticalOids: string[]): ComparableFields {
  return {
    subject: names.subject,
    issuer: names.issuer,
    hasSubjectAltName: cert.hasSubjectAltName,
    sanDnsNames: [...cert.sanDnsNames],
    sanUris: [...cert.sanUris],
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    basicConstraints: cert.basicConstraints === undefined ? undefined : { ca: cert.basicConstraints.ca, pathLen: cert.basicConstraints.pathLen },
    keyUsage: cert.keyUsage === undefined ? undefined : [...cert.keyUsage],
    extKeyUsage: cert.extKeyUsage === undefined ? undefined : [...cert.extKeyUsage],
    subjectKeyId: cert.subjectKeyId?.toString('hex'),
    authorityKeyId: cert.authorityKeyId?.toString('hex'),
    criticalOids,
  };
}
