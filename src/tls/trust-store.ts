/**
 * The PKIX trust store: certificates whose subject and key are trusted as anchors, from PEM files
 * and/or Node's bundled root list (tls.rootCertificates, the Mozilla store). Build once, share.
 */
import { rootCertificates } from 'node:tls';
import { createHash } from 'node:crypto';
import { decodePemCertificates, parseCertificate, parsePemCertificates, type ParsedCertificate } from './certificate.js';
import { BadCertificateError } from './errors.js';
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

  /**
   * Node's bundled root certificates; parsed once per process (about 150 certificates). A root the
   * reader refuses is left out rather than failing every TLS hop that uses the default store;
   * `TrustStore.systemRejected` names what was left out.
   */
  static system(): TrustStore {
    if (systemStore === undefined) {
      const parsed: ParsedCertificate[] = [];
      const rejected: string[] = [];
      for (const der of decodePemCertificates(rootCertificates.join('\n'))) {
        try {
          parsed.push(parseCertificate(der));
        } catch (err) {
          if (!(err instanceof BadCertificateError)) throw err;
          rejected.push(`${createHash('sha256').update(der).digest('hex')}: ${err.message}`);
        }
      }
      systemStore = new TrustStore(parsed);
      systemRejected = rejected;
    }
    return systemStore;
  }

  /** The bundled roots that TrustStore.system() left out, with the reason; empty on Node 20 here. */
  static get systemRejected(): readonly string[] {
    TrustStore.system();
    return systemRejected;
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
let systemRejected: readonly string[] = [];
