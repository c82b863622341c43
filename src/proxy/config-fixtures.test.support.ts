/**
 * Proxy config fixtures for tests: a temporary directory with a private CA, domain certificates
 * and keys made by src/lab/certificates.ts, and config files written into it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueCertificate, type CertificateSpec, type TestCertificate } from '../lab/certificates.js';

export class ConfigFixture {
  readonly dir: string;
  readonly ca: TestCertificate;
  #count = 0;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-proxy-config-'));
    this.ca = issueCertificate({ cn: 'Proxy Config Test CA', ca: true });
    this.write('ca.pem', this.ca.pem);
  }

  /** Writes a file into the directory (mode 0600: the loader warns about shared secrets) and returns its path. */
  write(name: string, text: string | Buffer, mode = 0o600): string {
    const file = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    return file;
  }

  /**
   * A domain certificate issued by the CA (SAN URI sip:DOMAIN and dNSName DOMAIN unless `spec`
   * says otherwise), written as `NAME.pem` (leaf, then CA) and `NAME.key`.
   */
  domain(domain: string, spec: Partial<CertificateSpec> = {}, name = domain): { cert: string; key: string; leaf: TestCertificate } {
    const leaf = issueCertificate({ cn: domain, issuer: this.ca, san: { uri: [`sip:${domain}`], dns: [domain] }, ...spec });
    this.write(`${name}.pem`, leaf.pem + this.ca.pem);
    this.write(`${name}.key`, leaf.keyPem);
    return { cert: `${name}.pem`, key: `${name}.key`, leaf };
  }

  /** A config file with this text, under a fresh name; returns its path. */
  config(text: string): string {
    this.#count += 1;
    return this.write(`proxy-${this.#count}.yaml`, text, 0o644);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The smallest valid config for a.test: one domain and one listener. */
export const MINIMAL = `domains:
  a.test:
    certificate: a.test.pem
    key: a.test.key
listen: [ "tls://127.0.0.2:5061" ]
`;
