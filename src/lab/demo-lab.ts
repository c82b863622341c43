/**
 * The demo's lab, on one machine: a private CA, a sipsec Responder listening for TLS on a free
 * loopback port, the signed zones of `sipsec.test.` served by NSD, and the libunbound config that
 * reaches them. A tool for demos and tests on one machine; docs/DEMO.md tells what each part shows.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrustStore } from '../tls/trust-store.js';
import { generateTlsaRecord, formatTlsaRecord } from '../tls/tlsa.js';
import { parsePemCertificates } from '../tls/certificate.js';
import { Responder } from '../ua/responder.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, type TestCertificate } from './certificates.js';
import { buildZones, type ZoneSpec } from './dns-zones.js';
import { startNsd, type NsdServer } from './nsd-server.js';
import { writeLibunboundConfig } from './unbound-config.js';

/** The zone that is the trust anchor; every demo domain is delegated from it. */
export const DEMO_PARENT = 'sipsec.test';

/** The demo's SIP domains, each delegated from `sipsec.test.` and served by the one Responder. */
export const DEMO_DOMAINS = {
  /** Signed, DS in the parent, TLSA 3 1 1 of the Responder's key: DANE-EE. */
  dane: 'b.sipsec.test',
  /** Signed, DS in the parent, TLSA of another key: the server's certificate does not match. */
  wrongTlsa: 'evil.sipsec.test',
  /** Signed, DS in the parent, the SIP server's address changed after signing: bogus. */
  bogus: 'bogus.sipsec.test',
  /** Unsigned, no DS (an insecure delegation): RFC 5922 certificate checks only. */
  insecure: 'open.sipsec.test',
} as const;

/** Files the demo passes to the CLI, all inside the lab folder. */
export interface DemoFiles {
  /** The private CA's certificate (PEM): `--ca` for RFC 5922 and PKIX checks. */
  readonly caPem: string;
  /** The certificate the Responder presents for b.sipsec.test. */
  readonly danePem: string;
  /** The certificate the Responder presents for evil.sipsec.test (valid under the CA). */
  readonly wrongTlsaPem: string;
  /** A certificate for the key the evil.sipsec.test TLSA names (not the one the server has). */
  readonly staleTlsaPem: string;
  /** A certificate from the same CA for another name: mallory.sipsec.test. */
  readonly otherNamePem: string;
  /** The libunbound config for `--dns-config`. */
  readonly dnsConfig: string;
}

export interface DemoLab {
  readonly dir: string;
  /** The Responder's TLS port, published in every SRV and TLSA owner name. */
  readonly port: number;
  readonly nsdPort: number;
  readonly files: DemoFiles;
  /** The TLSA records published, by SIP domain (`3 1 1 HEX`). */
  readonly tlsa: Readonly<Record<string, string>>;
  /** Stops NSD and the Responder; safe after a partial start and when called twice. */
  stop(): Promise<void>;
}

/**
 * Builds the lab in `dir` (which the caller owns and removes). `tlsaRecord` makes the TLSA record
 * text for a certificate file, host and port; the demo passes `sipsec tlsa generate` so that the
 * record published is the one the CLI prints.
 */
export async function startDemoLab(
  dir: string,
  tlsaRecord: (certFile: string, host: string, port: number) => Promise<string> = defaultTlsaRecord,
): Promise<DemoLab> {
  let responder: Responder | undefined;
  let nsd: NsdServer | undefined;
  const stop = async (): Promise<void> => {
    const r = responder;
    const n = nsd;
    responder = undefined;
    nsd = undefined;
    await r?.close();
    await n?.stop();
  };
  try {
    const ca = issueCertificate({ cn: 'sipsec demo CA', o: 'sipsec demo', ca: true });
    const leaf = (domain: string): TestCertificate =>
      issueCertificate({
        cn: `sip.${domain}`,
        o: 'sipsec demo',
        issuer: ca,
        san: { dns: [domain, `sip.${domain}`], uri: [`sip:${domain}`] },
        eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
      });
    const daneCert = leaf(DEMO_DOMAINS.dane);
    const wrongTlsaCert = leaf(DEMO_DOMAINS.wrongTlsa);
    const staleCert = leaf(DEMO_DOMAINS.wrongTlsa);
    const insecureCert = leaf(DEMO_DOMAINS.insecure);
    const otherNameCert = leaf('mallory.sipsec.test');
    const files: DemoFiles = {
      caPem: join(dir, 'ca.pem'),
      danePem: join(dir, 'b.sipsec.test.pem'),
      wrongTlsaPem: join(dir, 'evil.sipsec.test.pem'),
      staleTlsaPem: join(dir, 'evil.sipsec.test-stale.pem'),
      otherNamePem: join(dir, 'mallory.sipsec.test.pem'),
      dnsConfig: join(dir, 'libunbound.conf'),
    };
    await writeFile(files.caPem, ca.pem);
    await writeFile(files.danePem, daneCert.pem);
    await writeFile(files.wrongTlsaPem, wrongTlsaCert.pem);
    await writeFile(files.staleTlsaPem, staleCert.pem);
    await writeFile(files.otherNamePem, otherNameCert.pem);

    // One TLS listener for every domain; the certificate is chosen by SNI (the SRV host under
    // DANE, the SIP domain otherwise), the b.sipsec.test one when there is none.
    const served = (domain: string, cert: TestCertificate): { domains: string[]; cert: string; key: string } =>
      ({ domains: [`sip.${domain}`, domain], cert: cert.pem, key: cert.keyPem });
    responder = await Responder.start({
      listeners: [{
        transport: 'tls',
        address: '127.0.0.1',
        port: 0,
        certificates: [served(DEMO_DOMAINS.dane, daneCert), served(DEMO_DOMAINS.wrongTlsa, wrongTlsaCert), served(DEMO_DOMAINS.insecure, insecureCert)],
      }],
      trustStore: TrustStore.fromPem(ca.pem),
      log: () => undefined,
    });
    const port = responder.listening()[0]?.port;
    if (port === undefined) throw new Error('the Responder has no TLS listener');

    const tlsa = {
      [DEMO_DOMAINS.dane]: await tlsaRecord(files.danePem, `sip.${DEMO_DOMAINS.dane}`, port),
      // The record names a key the server does not have (a key rollover done wrong, or a forger).
      [DEMO_DOMAINS.wrongTlsa]: await tlsaRecord(files.staleTlsaPem, `sip.${DEMO_DOMAINS.wrongTlsa}`, port),
    };
    const built = await buildZones(dir, demoZones(port, tlsa));
    if (built.trustAnchors.length !== 1) throw new Error(`expected 1 trust anchor, built ${built.trustAnchors.length}`);
    nsd = await startNsd(dir, built.zones, `${DEMO_PARENT}.`);
    await writeLibunboundConfig(files.dnsConfig, {
      trustAnchors: built.trustAnchors,
      stubZones: [{ name: `${DEMO_PARENT}.`, port: nsd.port }],
      // Unbound answers the special-use test. zone itself (RFC 6761) unless told not to.
      nodefaultZones: ['test.'],
    });
    return { dir, port, nsdPort: nsd.port, files, tlsa, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The zones: the parent (trust anchor) and one child per demo domain. */
function demoZones(port: number, tlsa: Readonly<Record<string, string>>): ZoneSpec[] {
  const nameServer = `ns.${DEMO_PARENT}.`;
  // RFC 3263: NAPTR to _sips._tcp, SRV to the server host, an address on loopback.
  const sipDomain = (domain: string): string[] => [
    `@ IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.${domain}.`,
    `_sips._tcp IN SRV 10 0 ${port} sip.${domain}.`,
    'sip IN A 127.0.0.1',
  ];
  const withTlsa = (domain: string): string[] => {
    const record = tlsa[domain];
    if (record === undefined) throw new Error(`no TLSA record for ${domain}`);
    return [...sipDomain(domain), `_${port}._tcp.sip IN TLSA ${record}`];
  };
  return [
    {
      origin: `${DEMO_PARENT}.`,
      signing: 'signed',
      nameServer,
      records: ['ns IN A 127.0.0.1', ...Object.values(DEMO_DOMAINS).map((d) => `${d.slice(0, -DEMO_PARENT.length - 1)} IN NS ${nameServer}`)],
    },
    { origin: `${DEMO_DOMAINS.dane}.`, signing: 'signed', nameServer, records: withTlsa(DEMO_DOMAINS.dane) },
    { origin: `${DEMO_DOMAINS.wrongTlsa}.`, signing: 'signed', nameServer, records: withTlsa(DEMO_DOMAINS.wrongTlsa) },
    {
      origin: `${DEMO_DOMAINS.bogus}.`,
      signing: 'signed',
      nameServer,
      records: sipDomain(DEMO_DOMAINS.bogus),
      // Someone changes the server's address after signing, without the key: the signature fails.
      tamper: [{ from: /^(sip\.bogus\.sipsec\.test\.\s+\d+\s+IN\s+A\s+)127\.0\.0\.1$/m, to: '$1127.0.0.66' }],
    },
    // No DS in the parent and no signatures: an insecure delegation.
    { origin: `${DEMO_DOMAINS.insecure}.`, signing: 'unsigned', nameServer, records: sipDomain(DEMO_DOMAINS.insecure) },
  ];
}

/** `3 1 1 HEX` for the first certificate of a PEM file, computed in process. */
async function defaultTlsaRecord(certFile: string): Promise<string> {
  const cert = parsePemCertificates(await readFile(certFile, 'utf8'))[0];
  if (cert === undefined) throw new Error(`${certFile}: no certificate`);
  return formatTlsaRecord(generateTlsaRecord(cert, 3, 1, 1));
}
