/**
 * The `sipsec check` lab: signed zones served by NSD, read through libunbound, and TLS servers
 * with certificates from a private CA, one SIP domain per defect the audit must find (issue 14).
 * Servers listen on 127.0.0.80-92, addresses no other test uses; ports are free ones, written
 * into the SRV records, except nosrv's, which must be the default 5061.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import type { Socket } from 'node:net';
import { issueCertificate, type TestCertificate } from '../../src/lab/certificates.js';
import { buildZones, type ZoneSpec } from '../../src/lab/dns-zones.js';
import { startNsd, type NsdServer } from '../../src/lab/nsd-server.js';
import { writeLibunboundConfig } from '../../src/lab/unbound-config.js';
import { parseCertificate } from '../../src/tls/certificate.js';
import { formatTlsaRecord, generateTlsaRecord } from '../../src/tls/tlsa.js';
import { Responder } from '../../src/ua/responder.js';
import { startDnsBlackhole, type DnsBlackhole } from './dns-blackhole.js';

const DAY = 86_400_000;

export interface CheckLab {
  readonly dir: string;
  /** libunbound config reaching the lab zones (`--dns-config`). */
  readonly dnsConfigFile: string;
  /** The lab CA's root (`--ca`). */
  readonly caFile: string;
  readonly caPem: string;
  /** Names under hole.test. are delegated to a server that never answers. */
  readonly blackholeZone: string;
  stop(): Promise<void>;
}

interface Site {
  /** SIP domain. */
  readonly domain: string;
  readonly address: string;
  /** SRV host (absent: no SRV at all). */
  readonly srvHost?: string;
  /** Presented chain, leaf first. */
  readonly chain: readonly TestCertificate[];
  /** Raw TLS server accepting TLS 1.0 instead of a SIP responder. */
  readonly tls10?: boolean;
  readonly port?: number;
}

const long = (): { notBefore: Date; notAfter: Date } => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) });

/** A root and an issuing CA valid for a year, so that only the defects made on purpose show up. */
function longHierarchy(prefix: string): { root: TestCertificate; intermediate: TestCertificate } {
  const root = issueCertificate({ cn: `${prefix} Root CA`, o: 'sipsec tests', ca: true, ...long() });
  const intermediate = issueCertificate({ cn: `${prefix} Issuing CA`, o: 'sipsec tests', ca: true, issuer: root, ...long() });
  return { root, intermediate };
}

export async function startCheckLab(): Promise<CheckLab> {
  const dir = await mkdtemp(join(tmpdir(), 'sipsec-check-lab-'));
  const responders: Responder[] = [];
  const rawServers: { server: Server; sockets: Set<Socket> }[] = [];
  let nsd: NsdServer | undefined;
  let blackhole: DnsBlackhole | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(responders.map((r) => r.close()));
    await Promise.all(rawServers.map(({ server, sockets }) => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    })));
    await nsd?.stop();
    await blackhole?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = longHierarchy('Check lab');
    const stranger = longHierarchy('Stranger');
    const leaf = (cn: string, san: { dns?: string[]; uri?: string[] } | undefined, issuer: TestCertificate = ca.intermediate, dates = long()): TestCertificate =>
      issueCertificate({ cn, issuer, ...(san ? { san } : {}), ...dates });
    const sipDomainCert = (domain: string, host: string): TestCertificate => leaf(host, { uri: [`sip:${domain}`], dns: [domain, host] });

    // Chain too deep: root, six intermediates, leaf: the root sits at depth 7 (limit 5).
    const deep: TestCertificate[] = [ca.root];
    for (let i = 1; i <= 6; i++) deep.push(issueCertificate({ cn: `Deep CA ${i}`, ca: true, issuer: deep[deep.length - 1], ...long() }));
    const deepLeafFromLast = issueCertificate({ cn: 'sip.deepchain.lab.test', issuer: deep[deep.length - 1], san: { uri: ['sip:deepchain.lab.test'], dns: ['deepchain.lab.test'] }, ...long() });

    const perfectLeaf = sipDomainCert('perfect.lab.test', 'sip.perfect.lab.test');
    const daneEeLeaf = issueCertificate({ cn: 'unrelated.example', san: { dns: ['unrelated.example'] }, ...long() });
    const srvHostLeaf = leaf('siphost.lab.test', undefined);
    const sites: Site[] = [
      { domain: 'perfect.lab.test', address: '127.0.0.80', srvHost: 'sip.perfect.lab.test', chain: [perfectLeaf, ca.intermediate] },
      { domain: 'tlsamismatch.lab.test', address: '127.0.0.81', srvHost: 'sip.tlsamismatch.lab.test', chain: [sipDomainCert('tlsamismatch.lab.test', 'sip.tlsamismatch.lab.test'), ca.intermediate] },
      { domain: 'nosrv.lab.test', address: '127.0.0.82', chain: [sipDomainCert('nosrv.lab.test', 'nosrv.lab.test'), ca.intermediate], port: 5061 },
      { domain: 'daneeename.lab.test', address: '127.0.0.83', srvHost: 'sip.daneeename.lab.test', chain: [daneEeLeaf] },
      { domain: 'srvhostonly.lab.test', address: '127.0.0.84', srvHost: 'siphost.lab.test', chain: [srvHostLeaf, ca.intermediate] },
      { domain: 'expired.lab.test', address: '127.0.0.85', srvHost: 'sip.expired.lab.test', chain: [leaf('sip.expired.lab.test', { uri: ['sip:expired.lab.test'], dns: ['expired.lab.test'] }, ca.intermediate, { notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - DAY) }), ca.intermediate] },
      { domain: 'unknownca.lab.test', address: '127.0.0.86', srvHost: 'sip.unknownca.lab.test', chain: [leaf('sip.unknownca.lab.test', { uri: ['sip:unknownca.lab.test'], dns: ['unknownca.lab.test'] }, stranger.intermediate), stranger.intermediate] },
      { domain: 'wildcard.lab.test', address: '127.0.0.87', srvHost: 'sip.wildcard.lab.test', chain: [leaf('*.lab.test', { dns: ['*.lab.test'] }), ca.intermediate] },
      { domain: 'deepchain.lab.test', address: '127.0.0.88', srvHost: 'sip.deepchain.lab.test', chain: [deepLeafFromLast, ...deep.slice(1).reverse()] },
      { domain: 'tls10.lab.test', address: '127.0.0.89', srvHost: 'sip.tls10.lab.test', chain: [sipDomainCert('tls10.lab.test', 'sip.tls10.lab.test'), ca.intermediate], tls10: true },
      { domain: 'unsigned.test', address: '127.0.0.90', srvHost: 'sip.unsigned.test', chain: [sipDomainCert('unsigned.test', 'sip.unsigned.test'), ca.intermediate] },
    ];
    const ports = new Map<string, number>();
    for (const site of sites) {
      const [first] = site.chain;
      if (first === undefined) throw new Error('no certificate');
      const cert = site.chain.map((c) => c.pem).join('');
      if (site.tls10) {
        const sockets = new Set<Socket>();
        // TLS 1.0 and 1.1 need OpenSSL security level 0 on the server too (OpenSSL 3).
        const server = createServer({ cert, key: first.keyPem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => {
          s.on('error', () => undefined);
        });
        server.on('connection', (s: Socket) => {
          sockets.add(s);
          s.once('close', () => sockets.delete(s));
        });
        server.on('tlsClientError', () => undefined);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(site.port ?? 0, site.address, () => resolve());
        });
        rawServers.push({ server, sockets });
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('no port');
        ports.set(site.domain, address.port);
        continue;
      }
      const responder = await Responder.start({
        listeners: [{ transport: 'tls', address: site.address, port: site.port ?? 0, certificates: [{ domains: [site.domain], cert, key: first.keyPem }] }],
        log: () => undefined,
      });
      responders.push(responder);
      ports.set(site.domain, responder.listening()[0]?.port ?? 0);
    }
    const port = (domain: string): number => ports.get(domain) ?? 0;
    const tlsa311 = (cert: TestCertificate): string => formatTlsaRecord(generateTlsaRecord(parseCertificate(cert.der), 3, 1, 1));
    const srv = (domain: string, host: string, zoneSuffix: string): string => `_sips._tcp.${domain.replace(zoneSuffix, '')} IN SRV 10 0 ${port(domain)} ${host}.`;
    const labRecords = [
      // perfect: NAPTR for TLS only, SRV, TLSA 3 1 1 of the leaf.
      'perfect IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.perfect.lab.test.',
      srv('perfect.lab.test', 'sip.perfect.lab.test', '.lab.test'),
      'sip.perfect IN A 127.0.0.80',
      `_${port('perfect.lab.test')}._tcp.sip.perfect IN TLSA ${tlsa311(perfectLeaf)}`,
      // TLSA that matches nothing (and UDP offered beside TLS: a downgrade).
      srv('tlsamismatch.lab.test', 'sip.tlsamismatch.lab.test', '.lab.test'),
      '_sip._udp.tlsamismatch IN SRV 10 0 5060 sip.tlsamismatch.lab.test.',
      'sip.tlsamismatch IN A 127.0.0.81',
      `_${port('tlsamismatch.lab.test')}._tcp.sip.tlsamismatch IN TLSA 3 1 1 ${'00'.repeat(32)}`,
      // No NAPTR, no SRV: the address at 5061.
      'nosrv IN A 127.0.0.82',
      // No TLS: UDP and TCP only.
      'notls IN NAPTR 10 50 "s" "SIP+D2U" "" _sip._udp.notls.lab.test.',
      'notls IN NAPTR 20 50 "s" "SIP+D2T" "" _sip._tcp.notls.lab.test.',
      '_sip._udp.notls IN SRV 10 0 5060 sip.notls.lab.test.',
      '_sip._tcp.notls IN SRV 10 0 5060 sip.notls.lab.test.',
      'sip.notls IN A 127.0.0.92',
      // DANE-EE matching a certificate that names neither the domain nor the SRV host.
      srv('daneeename.lab.test', 'sip.daneeename.lab.test', '.lab.test'),
      'sip.daneeename IN A 127.0.0.83',
      `_${port('daneeename.lab.test')}._tcp.sip.daneeename IN TLSA ${tlsa311(daneEeLeaf)}`,
      // Seed 004 example 1: the certificate names the SRV host only; DANE-TA on the issuing CA.
      srv('srvhostonly.lab.test', 'siphost.lab.test', '.lab.test'),
      'siphost IN A 127.0.0.84',
      `_${port('srvhostonly.lab.test')}._tcp.siphost IN TLSA ${formatTlsaRecord(generateTlsaRecord(parseCertificate(ca.intermediate.der), 2, 1, 1))}`,
      srv('expired.lab.test', 'sip.expired.lab.test', '.lab.test'),
      'sip.expired IN A 127.0.0.85',
      srv('unknownca.lab.test', 'sip.unknownca.lab.test', '.lab.test'),
      'sip.unknownca IN A 127.0.0.86',
      srv('wildcard.lab.test', 'sip.wildcard.lab.test', '.lab.test'),
      'sip.wildcard IN A 127.0.0.87',
      srv('deepchain.lab.test', 'sip.deepchain.lab.test', '.lab.test'),
      'sip.deepchain IN A 127.0.0.88',
      srv('tls10.lab.test', 'sip.tls10.lab.test', '.lab.test'),
      'sip.tls10 IN A 127.0.0.89',
      // Batch black holes: SRV targets in a zone whose server never answers.
      ...Array.from({ length: 10 }, (_, i) => `_sips._tcp.slow${i} IN SRV 10 0 5061 sip.slow${i}.hole.test.`),
    ];
    const zones: ZoneSpec[] = [
      { origin: 'test.', signing: 'signed', records: ['ns IN A 127.0.0.1', 'lab IN NS ns.test.', 'forged IN NS ns.test.', 'unsigned IN NS ns.test.', 'hole IN NS ns.test.'] },
      { origin: 'lab.test.', signing: 'signed', records: labRecords },
      {
        origin: 'forged.test.', signing: 'signed',
        records: ['_sips._tcp IN SRV 10 0 5061 sip.forged.test.', 'sip IN A 127.0.0.91'],
        tamper: [{ from: /^(sip\.forged\.test\.\s+\d+\s+IN\s+A\s+)127\.0\.0\.91$/m, to: '$1127.0.0.93' }],
      },
      {
        origin: 'unsigned.test.', signing: 'unsigned',
        records: [`_sips._tcp IN SRV 10 0 ${port('unsigned.test')} sip.unsigned.test.`, 'sip IN A 127.0.0.90'],
      },
    ];
    const built = await buildZones(dir, zones);
    nsd = await startNsd(dir, built.zones, 'test.');
    blackhole = await startDnsBlackhole();
    const dnsConfigFile = join(dir, 'libunbound.conf');
    await writeLibunboundConfig(dnsConfigFile, {
      trustAnchors: built.trustAnchors,
      stubZones: [{ name: 'test.', port: nsd.port }, { name: 'hole.test.', port: blackhole.port }],
      nodefaultZones: ['test.'],
    });
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.root.pem);
    return { dir, dnsConfigFile, caFile, caPem: ca.root.pem, blackholeZone: 'hole.test', stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
