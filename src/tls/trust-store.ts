/**
 * The PKIX trust store: certificates whose subject and key are trusted as anchors, from PEM files
 * and/or Node's bundled root list (tls.rootCertificates, the Mozilla store). Build once, share.
 */
import { rootCertificates } from 'node:tls';
import { parsePemCertificates, type ParsedCertificate } from './certificate.js';
import { AnchorSet } from './path.js';

export class TrustStore {
  readonly anchors: AnchorSet;
  readonly certificates: readonly ParsedCertificate[];

  constructor(certificates: readonly ParsedCertificate[]) {
    this.certificates = certificates;
    this.anchors = new AnchorSet(certificates.map((cert) => ({ kind: 'certificate', cert, source: 'trust-store' }) as const));
  }

  /** Trust exactly the certificates in these PEM texts. */
  static fromPem(...pems: readonly string[]): TrustStore {
    return new TrustStore(pems.flatMap((pem) => parsePemCertificates(pem)));
  }

  /** Node's bundled root certificates; parsed once per process (about 150 certificates). */
  static system(): TrustStore {
    systemStore ??= new TrustStore(parsePemCertificates(rootCertificates.join('\n')));
    return systemStore;
  }

  /** A store trusting nothing: every PKIX path fails with unknown-ca. */
  static empty(): TrustStore {
    return new TrustStore([]);
  }

  /** This store and another, e.g. the system roots plus a private CA. */
  with(other: TrustStore): TrustStore {
    return new TrustStore([...this.certificates, ...other.certificates]);
  }
}

let systemStore: TrustStore | undefined;
