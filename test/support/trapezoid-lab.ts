/**
 * The SIP trapezoid of draft-gurbani figure 1 on loopback: two SIP domains, each with its own
 * `sipsec proxy` process, zones signed at start and served by NSD, a private CA, and a row of far
 * servers that fail the inter-domain hop in one way each. Tests build it, start the proxies they
 * need with `startProxy`, and stop everything.
 *
 * Addresses (127.0.0.140-149, no other test uses them): proxy A 127.0.0.141, proxy B 127.0.0.142,
 * the faulty far servers 127.0.0.146, nothing listening on 127.0.0.147; the outbound-DNS block
 * (below) 127.0.0.144; domain c (below) 127.0.0.143.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate, type TestCertificate } from '../../src/lab/certificates.js';
import { buildZones, type ZoneSpec } from '../../src/lab/dns-zones.js';
import { startKamailioPeer, type RunningKamailioPeer } from '../../src/lab/kamailio.js';
import { startNsd, type NsdServer } from '../../src/lab/nsd-server.js';
import { writeLibunboundConfig } from '../../src/lab/unbound-config.js';
import { parsePemCertificates } from '../../src/tls/certificate.js';
import { formatTlsaRecord, generateTlsaRecord } from '../../src/tls/tlsa.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import { Responder } from '../../src/ua/responder.js';
import { REPO_ROOT } from './paths.js';

export const TRAP_PARENT = 'trap.test';

/** The two domains with a proxy each, and the far domains that fail the hop, one way each. */
export const TRAP = {
  /** Signed, DS in the parent, TLSA 3 1 1 of proxy A's key: DANE-EE. */
  a: 'a.trap.test',
  /** Signed, DS in the parent, no TLSA: RFC 5922 under the private CA. */
  b: 'b.trap.test',
  /** The server presents a valid certificate for another domain (mallory.trap.test). */
  wrongCert: 'wrongcert.trap.test',
  /** The server's certificate is from a CA the proxies do not trust. */
  unknownCa: 'unknownca.trap.test',
  /** The server's certificate has expired. */
  expired: 'expired.trap.test',
  /** Signed with a TLSA record naming another key than the server's: no PKIX fallback. */
  daneMismatch: 'danemismatch.trap.test',
  /** Signed, the server's address changed after signing: bogus. */
  bogus: 'bogus.trap.test',
  /** Signed, the SRV points at an address where nothing listens. */
  nobody: 'nobody.trap.test',
} as const;

export const TRAP_ADDRESS = { a: '127.0.0.141', b: '127.0.0.142', faulty: '127.0.0.146', nobody: '127.0.0.147' } as const;

/** Users and their (demo) passwords, written as plain passwords into each proxy's users file. */
export const TRAP_USERS = {
  a: { alice: 'alice-secret', carol: 'carol-secret' },
  b: { bob: 'bob-secret', dave: 'dave-secret' },
} as const;

export interface TrapezoidLab {
  readonly dir: string;
  readonly caPem: string;
  /** The libunbound config both proxies use (stub to NSD, the parent's trust anchor). */
  readonly dnsConfig: string;
  /** The proxy config files written for domain a and b; tests may write others beside them. */
  readonly configs: { readonly a: string; readonly b: string };
  readonly certs: { readonly a: TestCertificate; readonly b: TestCertificate; readonly ca: TestCertificate };
  readonly nsdPort: number;
  stop(): Promise<void>;
}

export interface TrapezoidLabOptions {
  /** YAML lines appended to both proxies' configs (e.g. `timers: { timerCMs: 2000 }`). */
  readonly extraConfig?: readonly string[];
}

/** Builds the lab in a fresh temporary folder; `stop` removes it. */
export async function startTrapezoidLab(options: TrapezoidLabOptions = {}): Promise<TrapezoidLab> {
  const dir = await mkdtemp(join(os.tmpdir(), 'sipsec-trapezoid-'));
  let nsd: NsdServer | undefined;
  let faulty: Responder | undefined;
  let outDns: Responder | undefined;
  const stop = async (): Promise<void> => {
    await faulty?.close().catch(() => undefined);
    await outDns?.close().catch(() => undefined);
    outDns = undefined;
    await nsd?.stop();
    faulty = undefined;
    nsd = undefined;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = issueCertificate({ cn: 'trapezoid CA', o: 'sipsec tests', ca: true });
    const otherCa = issueCertificate({ cn: 'someone else CA', o: 'elsewhere', ca: true });
    const leaf = (domain: string, options: { issuer?: TestCertificate; notAfter?: Date; notBefore?: Date; names?: string } = {}): TestCertificate => {
      const named = options.names ?? domain;
      return issueCertificate({
        cn: `sip.${named}`,
        o: 'sipsec tests',
        issuer: options.issuer ?? ca,
        san: { dns: [named, `sip.${named}`], uri: [`sip:${named}`] },
        eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
        ...(options.notBefore ? { notBefore: options.notBefore } : {}),
        ...(options.notAfter ? { notAfter: options.notAfter } : {}),
      });
    };
    const certs = { a: leaf(TRAP.a), b: leaf(TRAP.b), ca };
    const stale = leaf(TRAP.daneMismatch);
    const dayMs = 86_400_000;
    const faultyCerts: Array<[string, TestCertificate]> = [
      [TRAP.wrongCert, leaf(TRAP.wrongCert, { names: 'mallory.trap.test' })],
      [TRAP.unknownCa, leaf(TRAP.unknownCa, { issuer: otherCa })],
      [TRAP.expired, leaf(TRAP.expired, { notBefore: new Date(Date.now() - 30 * dayMs), notAfter: new Date(Date.now() - dayMs) })],
      [TRAP.daneMismatch, leaf(TRAP.daneMismatch)],
    ];
    faulty = await Responder.start({
      listeners: [{
        transport: 'tls', address: TRAP_ADDRESS.faulty, port: 5061,
        certificates: faultyCerts.map(([domain, cert]) => ({ domains: [domain, `sip.${domain}`], cert: cert.pem, key: cert.keyPem })),
      }],
      trustStore: TrustStore.fromPem(ca.pem),
      log: () => undefined,
    });
    outDns = await startOutDnsServer(ca, leaf);

    const caPem = join(dir, 'ca.pem');
    await writeFile(caPem, ca.pem);
    for (const side of ['a', 'b'] as const) {
      await writeFile(join(dir, `${side}.pem`), certs[side].pem);
      await writeFile(join(dir, `${side}.key`), certs[side].keyPem, { mode: 0o600 });
    }
    const tlsa = {
      [TRAP.a]: tlsaOf(certs.a),
      [TRAP.daneMismatch]: tlsaOf(stale),
    };
    const built = await buildZones(dir, withDomainC(withReverseDns(withKamailioZone(trapZones(tlsa)))));
    if (built.trustAnchors.length !== 1) throw new Error(`expected 1 trust anchor, built ${built.trustAnchors.length}`);
    nsd = await startNsd(dir, built.zones, `${TRAP_PARENT}.`);
    const dnsConfig = join(dir, 'libunbound.conf');
    await writeLibunboundConfig(dnsConfig, {
      trustAnchors: built.trustAnchors,
      stubZones: [{ name: `${TRAP_PARENT}.`, port: nsd.port }, ...reverseDnsStubs(nsd.port)],
      nodefaultZones: ['test.', ...REVERSE_DNS_NODEFAULT],
    });
    await appendFile(dnsConfig, REVERSE_DNS_UNBOUND);
    const extra = options.extraConfig ?? [];
    const configs = { a: await writeProxyConfig(dir, 'a', extra), b: await writeProxyConfig(dir, 'b', extra) };
    return { dir, caPem, dnsConfig, configs, certs, nsdPort: nsd.port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function tlsaOf(cert: TestCertificate): string {
  const parsed = parsePemCertificates(cert.pem)[0];
  if (parsed === undefined) throw new Error('no certificate');
  return formatTlsaRecord(generateTlsaRecord(parsed, 3, 1, 1));
}

/** Each side's config: its domain, TLS for other domains, UDP and TCP for its users. */
async function writeProxyConfig(dir: string, side: 'a' | 'b', extra: readonly string[]): Promise<string> {
  const domain = TRAP[side];
  const address = TRAP_ADDRESS[side];
  const users = Object.entries(TRAP_USERS[side]).map(([user, password]) => `${user}@${domain}: { password: "${password}" }`);
  await writeFile(join(dir, `${side}-users.yaml`), `${users.join('\n')}\n`);
  const file = join(dir, `${side}.yaml`);
  await writeFile(file, [
    'domains:',
    `  ${domain}:`,
    `    certificate: ${side}.pem`,
    `    key: ${side}.key`,
    `listen: [ "tls://${address}:5061", "tcp://${address}:5060", "udp://${address}:5060" ]`,
    'trust: { ca: [ ca.pem ] }',
    'dns: { unbound: libunbound.conf }',
    `users: ${side}-users.yaml`,
    'auth: { algorithms: [ MD5 ] }',
    `location: "sqlite:${side}-location.db"`,
    ...extra,
    '',
  ].join('\n'));
  return file;
}

/** The zones: the parent (trust anchor) and one child per domain. */
function trapZones(tlsa: Readonly<Record<string, string>>): ZoneSpec[] {
  const nameServer = `ns.${TRAP_PARENT}.`;
  // RFC 3263: NAPTR to _sips._tcp and _sip._udp, SRV to the server host, an address on loopback.
  const sipDomain = (domain: string, address: string): string[] => [
    `@ IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.${domain}.`,
    `@ IN NAPTR 20 50 "s" "SIP+D2U" "" _sip._udp.${domain}.`,
    `_sips._tcp IN SRV 10 0 5061 sip.${domain}.`,
    `_sip._udp IN SRV 10 0 5060 sip.${domain}.`,
    `sip IN A ${address}`,
  ];
  const withTlsa = (domain: string, address: string): string[] => {
    const record = tlsa[domain];
    if (record === undefined) throw new Error(`no TLSA record for ${domain}`);
    return [...sipDomain(domain, address), `_5061._tcp.sip IN TLSA ${record}`];
  };
  const label = (domain: string): string => domain.slice(0, -TRAP_PARENT.length - 1);
  return [
    { origin: `${TRAP_PARENT}.`, signing: 'signed', nameServer, records: ['ns IN A 127.0.0.1', ...[...Object.values(TRAP), ...OUT_DNS_ZONES].map((d) => `${label(d)} IN NS ${nameServer}`)] },
    { origin: `${TRAP.a}.`, signing: 'signed', nameServer, records: withTlsa(TRAP.a, TRAP_ADDRESS.a) },
    { origin: `${TRAP.b}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.b, TRAP_ADDRESS.b) },
    { origin: `${TRAP.wrongCert}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.wrongCert, TRAP_ADDRESS.faulty) },
    { origin: `${TRAP.unknownCa}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.unknownCa, TRAP_ADDRESS.faulty) },
    { origin: `${TRAP.expired}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.expired, TRAP_ADDRESS.faulty) },
    { origin: `${TRAP.daneMismatch}.`, signing: 'signed', nameServer, records: withTlsa(TRAP.daneMismatch, TRAP_ADDRESS.faulty) },
    {
      origin: `${TRAP.bogus}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.bogus, TRAP_ADDRESS.b),
      tamper: [{ from: /^(sip\.bogus\.trap\.test\.\s+\d+\s+IN\s+A\s+)127\.0\.0\.142$/m, to: '$1127.0.0.143' }],
    },
    { origin: `${TRAP.nobody}.`, signing: 'signed', nameServer, records: sipDomain(TRAP.nobody, TRAP_ADDRESS.nobody) },
    ...outDnsZones(nameServer, sipDomain),
  ];
}

// ---- Outbound DNS policies (issue 15 item 5, the client certificate by From domain): an
// insecure domain served on 127.0.0.144, and a second domain that proxy A may serve too.

export const TRAP_OUT_DNS = {
  /** Not signed, delegated without DS: insecure (RFC 4035 section 5.2); a valid certificate from the lab CA. */
  insecure: 'insecure.trap.test',
  /** A second domain for proxy A (writeTwoDomainConfigA), with its own certificate from the lab CA; no zone. */
  annex: 'annex.trap.test',
} as const;

/** The TLS server of the insecure domain (a Responder: OPTIONS gets 200). */
export const TRAP_OUT_DNS_ADDRESS = '127.0.0.144';

/** The zones of this block that the parent delegates to. */
const OUT_DNS_ZONES: readonly string[] = [TRAP_OUT_DNS.insecure];

function outDnsZones(nameServer: string, sipDomain: (domain: string, address: string) => string[]): ZoneSpec[] {
  return [{ origin: `${TRAP_OUT_DNS.insecure}.`, signing: 'unsigned', nameServer, records: sipDomain(TRAP_OUT_DNS.insecure, TRAP_OUT_DNS_ADDRESS) }];
}

async function startOutDnsServer(ca: TestCertificate, leaf: (domain: string) => TestCertificate): Promise<Responder> {
  const cert = leaf(TRAP_OUT_DNS.insecure);
  return Responder.start({
    listeners: [{
      transport: 'tls', address: TRAP_OUT_DNS_ADDRESS, port: 5061,
      certificates: [{ domains: [TRAP_OUT_DNS.insecure, `sip.${TRAP_OUT_DNS.insecure}`], cert: cert.pem, key: cert.keyPem }],
    }],
    trustStore: TrustStore.fromPem(ca.pem),
    log: () => undefined,
  });
}

/** A user of the annex domain on proxy A, for writeTwoDomainConfigA. */
export const TRAP_ANNEX_USER = { name: 'erin', password: 'erin-secret' } as const;

/**
 * Proxy A's config serving a.trap.test and annex.trap.test (its certificate issued here by the lab
 * CA), with its users and erin@annex.trap.test; `extra` lines appended. Several domains need the
 * TLS listener's advertised name: A's own domain. `hosting: false` issues the annex certificate
 * for its own domain only (the proxy warns at start; a far via-trail check refuses erin).
 */
export async function writeTwoDomainConfigA(lab: TrapezoidLab, extra: readonly string[] = [], options: { readonly hosting?: boolean } = {}): Promise<string> {
  // A hosting proxy's certificate: its domain, and the name the proxy writes in Via and
  // Record-Route (A's), which a far via-trail check compares with the same certificate.
  const alsoA = options.hosting === false ? [] : [TRAP.a];
  const annex = issueCertificate({
    cn: `sip.${TRAP_OUT_DNS.annex}`, o: 'sipsec tests', issuer: lab.certs.ca,
    san: { dns: [TRAP_OUT_DNS.annex, `sip.${TRAP_OUT_DNS.annex}`, ...alsoA], uri: [`sip:${TRAP_OUT_DNS.annex}`, ...alsoA.map((name) => `sip:${name}`)] },
    eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
  });
  await writeFile(join(lab.dir, 'annex.pem'), annex.pem);
  await writeFile(join(lab.dir, 'annex.key'), annex.keyPem, { mode: 0o600 });
  const users = [
    ...Object.entries(TRAP_USERS.a).map(([user, password]) => `${user}@${TRAP.a}: { password: "${password}" }`),
    `${TRAP_ANNEX_USER.name}@${TRAP_OUT_DNS.annex}: { password: "${TRAP_ANNEX_USER.password}" }`,
  ];
  await writeFile(join(lab.dir, 'a2-users.yaml'), `${users.join('\n')}\n`);
  const address = TRAP_ADDRESS.a;
  const file = join(lab.dir, 'a2.yaml');
  await writeFile(file, [
    'domains:',
    `  ${TRAP.a}: { certificate: a.pem, key: a.key }`,
    `  ${TRAP_OUT_DNS.annex}: { certificate: annex.pem, key: annex.key }`,
    'listen:',
    `  - { url: "tls://${address}:5061", advertise: "${TRAP.a}" }`,
    `  - { url: "tcp://${address}:5060", advertise: "${address}" }`,
    `  - { url: "udp://${address}:5060", advertise: "${address}" }`,
    'trust: { ca: [ ca.pem ] }',
    'dns: { unbound: libunbound.conf }',
    'users: a2-users.yaml',
    'auth: { algorithms: [ MD5 ] }',
    'location: "sqlite:a2-location.db"',
    ...extra,
    '',
  ].join('\n'));
  return file;
}

/** A copy of a proxy config with `extra` lines appended (a `policy:` section, say), beside it. */
export async function withConfigLines(config: string, name: string, extra: readonly string[]): Promise<string> {
  const file = join(config, '..', name);
  await writeFile(file, `${await readFile(config, 'utf8')}${extra.join('\n')}\n`);
  return file;
}

// ---- end of the outbound DNS block.

// ---- Reverse DNS of lab addresses (issue 15, the reverse-dns policy) ----

/**
 * An unsigned reverse zone for 127.0.0.x, served by the lab's NSD (insecure: no trust anchor
 * covers it). `confirmed` (proxy A's address) has the PTR a.trap.test, which resolves back to it;
 * `forged` claims a.trap.test too, which does not resolve to it.
 */
export const TRAP_REVERSE = { zone: '0.0.127.in-addr.arpa.', confirmed: TRAP_ADDRESS.a, forged: '127.0.0.148' } as const;

/** Unbound answers 127.in-addr.arpa itself (RFC 6303) unless told not to. */
const REVERSE_DNS_NODEFAULT = ['127.in-addr.arpa.'];

/**
 * Without this, libunbound (which always has the root trust anchor) would look for the DS chain
 * of in-addr.arpa at the root servers, unreachable from the lab, and time out.
 */
const REVERSE_DNS_UNBOUND = `server:\n  domain-insecure: "${TRAP_REVERSE.zone}"\n`;

function withReverseDns(zones: readonly ZoneSpec[]): ZoneSpec[] {
  const lastOctet = (address: string): string => address.split('.').at(-1) ?? '';
  return [
    // The forward half of the confirmation: a.trap.test itself has proxy A's address.
    ...zones.map((z) => (z.origin === `${TRAP.a}.` ? { ...z, records: [...z.records, `@ IN A ${TRAP_ADDRESS.a}`] } : z)),
    {
      origin: TRAP_REVERSE.zone, signing: 'unsigned', nameServer: `ns.${TRAP_PARENT}.`,
      records: [`${lastOctet(TRAP_REVERSE.confirmed)} IN PTR ${TRAP.a}.`, `${lastOctet(TRAP_REVERSE.forged)} IN PTR ${TRAP.a}.`],
    },
  ];
}

function reverseDnsStubs(port: number): Array<{ name: string; port: number }> {
  return [{ name: TRAP_REVERSE.zone, port }];
}

// ---- end of reverse DNS ----

export interface RunningProxy {
  readonly child: ChildProcess;
  /** Everything the process wrote (its JSON log lines), for assertions and failure messages. */
  output(): string;
  /** Parsed JSON log lines so far. */
  events(): Array<Record<string, unknown>>;
  /** Resolves with the first log event matching, or rejects after `timeoutMs` (a hang is a failure, not a wait). */
  waitFor(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts `sipsec proxy --config FILE` and waits for its `proxy-started` event. */
export async function startProxy(config: string): Promise<RunningProxy> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/cli/main.js'), 'proxy', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    for (const wake of waiters) wake();
  });
  const events = (): Array<Record<string, unknown>> => output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const waitFor = (match: (event: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events().find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (exited) return done(() => reject(new Error(`the proxy exited:\n${output.slice(-4000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching log event in ${timeoutMs} ms:\n${output.slice(-4000)}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  const proxy = { child, output: () => output, events, waitFor, stop };
  try {
    await waitFor((e) => e.event === 'proxy-started');
  } catch (err) {
    await stop();
    throw err;
  }
  return proxy;
}

/** The text of a file in the lab (a log, a database dump) for failure messages. */
export async function labFile(lab: TrapezoidLab, name: string): Promise<string> {
  return readFile(join(lab.dir, name), 'utf8');
}

// ---- Kamailio as the proxy of domain k (issue 15 item 7): its zone and its certificate ----------

/**
 * k.trap.test, whose proxy is Debian's Kamailio 5.6 (src/lab/kamailio.ts, `startKamailioPeer`)
 * on 127.0.0.145: TLS on 5061 for other domains, UDP on 5060 for its own user agents.
 */
export const KAMAILIO_DOMAIN = 'k.trap.test';
export const KAMAILIO_ADDRESS = '127.0.0.145';
/** k's users: a static location each, a SIPp UAS over UDP on Kamailio's address. */
export const KAMAILIO_USERS = { kate: 5090 } as const;

/**
 * The zone of k.trap.test, signed with its DS in the parent and no TLSA (RFC 5922 under the private
 * CA, as b): NAPTR and SRV to sip.k.trap.test:5061 over TLS, and an address for the domain name
 * itself, which Kamailio's Record-Route names with a port (`sip:k.trap.test:5061;transport=tls`):
 * with a port RFC 3263 looks up only the address record.
 */
function withKamailioZone(zones: readonly ZoneSpec[]): ZoneSpec[] {
  const nameServer = `ns.${TRAP_PARENT}.`;
  const label = KAMAILIO_DOMAIN.slice(0, -TRAP_PARENT.length - 1);
  return [
    ...zones.map((zone) => zone.origin === `${TRAP_PARENT}.` ? { ...zone, records: [...zone.records, `${label} IN NS ${nameServer}`] } : zone),
    {
      origin: `${KAMAILIO_DOMAIN}.`, signing: 'signed', nameServer, records: [
        `@ IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.${KAMAILIO_DOMAIN}.`,
        `_sips._tcp IN SRV 10 0 5061 sip.${KAMAILIO_DOMAIN}.`,
        `sip IN A ${KAMAILIO_ADDRESS}`,
        `@ IN A ${KAMAILIO_ADDRESS}`,
      ],
    },
  ];
}

/** Kamailio's certificate from the lab's CA, as the proxies' own: the domain and sip.domain, client and server use. */
export function kamailioCertificate(lab: TrapezoidLab): TestCertificate {
  return issueCertificate({
    cn: `sip.${KAMAILIO_DOMAIN}`,
    o: 'sipsec tests',
    issuer: lab.certs.ca,
    san: { dns: [KAMAILIO_DOMAIN, `sip.${KAMAILIO_DOMAIN}`], uri: [`sip:${KAMAILIO_DOMAIN}`] },
    eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
  });
}

/**
 * Kamailio as the proxy of k.trap.test, facing proxy A over mutual TLS (a static route to A: it
 * cannot ask the lab's NSD). Without `advertisedName` its Via and Record-Route carry its address,
 * Kamailio's default; with it, that name.
 */
export async function startKamailioOfK(lab: TrapezoidLab, options: { readonly advertisedName?: string } = {}): Promise<RunningKamailioPeer> {
  const cert = kamailioCertificate(lab);
  return startKamailioPeer({
    domain: KAMAILIO_DOMAIN,
    address: KAMAILIO_ADDRESS,
    cert: cert.pem,
    key: cert.keyPem,
    ca: lab.certs.ca.pem,
    peers: { [TRAP.a]: `${TRAP_ADDRESS.a}:5061` },
    users: Object.fromEntries(Object.entries(KAMAILIO_USERS).map(([user, port]) => [user, `${KAMAILIO_ADDRESS}:${port}`])),
    ...(options.advertisedName !== undefined ? { advertisedName: options.advertisedName } : {}),
  });
}

// ---- Domain c, a third sipsec proxy (issue 15 item 3, seed 000 section 5.3: bob forwards to a
// third domain) --------------------------------------------------------------------------------

/**
 * c.trap.test, served by a third `sipsec proxy` on 127.0.0.143 (writeConfigC): signed with its DS
 * in the parent and no TLSA, as b. Its user agents use 127.0.0.143 ports 5090 and up (the proxy
 * has 5060 and 5061).
 */
export const TRAP_C = { domain: 'c.trap.test', address: '127.0.0.143' } as const;
/** c's users and their (demo) passwords. */
export const TRAP_C_USERS = { carol: 'carol-c-secret' } as const;

/** The zone of c.trap.test as a's and b's: NAPTR and SRV to TLS on 5061 and UDP on 5060. */
function withDomainC(zones: readonly ZoneSpec[]): ZoneSpec[] {
  const { domain, address } = TRAP_C;
  const nameServer = `ns.${TRAP_PARENT}.`;
  const label = domain.slice(0, -TRAP_PARENT.length - 1);
  return [
    ...zones.map((zone) => zone.origin === `${TRAP_PARENT}.` ? { ...zone, records: [...zone.records, `${label} IN NS ${nameServer}`] } : zone),
    {
      origin: `${domain}.`, signing: 'signed', nameServer, records: [
        `@ IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.${domain}.`,
        `@ IN NAPTR 20 50 "s" "SIP+D2U" "" _sip._udp.${domain}.`,
        `_sips._tcp IN SRV 10 0 5061 sip.${domain}.`,
        `_sip._udp IN SRV 10 0 5060 sip.${domain}.`,
        `sip IN A ${address}`,
      ],
    },
  ];
}

/**
 * Proxy C's config (c.yaml beside a.yaml and b.yaml), as a's and b's: its certificate from the lab
 * CA (the domain and sip.domain, `sip:` URI identity, client and server use), TLS for other
 * domains, UDP and TCP for its users (c-users.yaml); `extra` lines appended.
 */
export async function writeConfigC(lab: TrapezoidLab, extra: readonly string[] = []): Promise<string> {
  const { domain, address } = TRAP_C;
  const cert = issueCertificate({
    cn: `sip.${domain}`, o: 'sipsec tests', issuer: lab.certs.ca,
    san: { dns: [domain, `sip.${domain}`], uri: [`sip:${domain}`] },
    eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
  });
  await writeFile(join(lab.dir, 'c.pem'), cert.pem);
  await writeFile(join(lab.dir, 'c.key'), cert.keyPem, { mode: 0o600 });
  const users = Object.entries(TRAP_C_USERS).map(([user, password]) => `${user}@${domain}: { password: "${password}" }`);
  await writeFile(join(lab.dir, 'c-users.yaml'), `${users.join('\n')}\n`);
  const file = join(lab.dir, 'c.yaml');
  await writeFile(file, [
    'domains:',
    `  ${domain}:`,
    '    certificate: c.pem',
    '    key: c.key',
    `listen: [ "tls://${address}:5061", "tcp://${address}:5060", "udp://${address}:5060" ]`,
    'trust: { ca: [ ca.pem ] }',
    'dns: { unbound: libunbound.conf }',
    'users: c-users.yaml',
    'auth: { algorithms: [ MD5 ] }',
    'location: "sqlite:c-location.db"',
    ...extra,
    '',
  ].join('\n'));
  return file;
}

/**
 * A copy of a lab proxy config named `name` (beside it) with `lines` appended (a `policy:`
 * section, say) and its users file replaced by a copy where each entry of `users` (address of
 * record to a YAML flow mapping, e.g. `{ password: "x", forward: "sip:carol@c.trap.test" }`)
 * replaces or adds that user's line.
 */
export async function writeConfigWith(
  config: string, name: string, change: { readonly lines?: readonly string[]; readonly users?: Readonly<Record<string, string>> },
): Promise<string> {
  let text = await readFile(config, 'utf8');
  const users = change.users ?? {};
  if (Object.keys(users).length > 0) {
    const line = /^users: (\S+)$/m.exec(text);
    if (line?.[1] === undefined) throw new Error(`${config} names no users file`);
    const usersFile = `${name.replace(/\.yaml$/, '')}-users.yaml`;
    const kept = (await readFile(join(config, '..', line[1]), 'utf8')).split('\n')
      .filter((l) => l !== '' && !Object.keys(users).some((aor) => l.startsWith(`${aor}:`)));
    const added = Object.entries(users).map(([aor, entry]) => `${aor}: ${entry}`);
    await writeFile(join(config, '..', usersFile), `${[...kept, ...added].join('\n')}\n`);
    text = text.replace(line[0], `users: ${usersFile}`);
  }
  const file = join(config, '..', name);
  await writeFile(file, `${text}${(change.lines ?? []).join('\n')}\n`);
  return file;
}

// ---- end of domain c ----
