/**
 * `sipsec proxy`'s configuration (docs/PROXY.md "Configuration"): the YAML file read with `yaml`,
 * its shape checked with zod (config-schema.ts), then everything it names checked as the proxy will
 * use it, so that a bad certificate, key, users file or URL stops the start with its file, line
 * and key path, not the first call. The result is a frozen ProxyConfig with the files' contents
 * loaded; the process wiring turns it into a SipStack and the proxy core. Whether a port is free
 * is a start-time check, not made here.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar } from 'yaml';
import type { z } from 'zod';
import { mergeLimits, TX_TIMERS, type AuthLimits, type DnsLimits, type LocationLimits, type RegistrarLimits, type SipLimits, type TlsLimits, type TransportLimits, type TxLimits, type TxTimers } from '../limits.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../registrar/digest.js';
import { parseUsersDocument, parseUsersFile, UserDirectory, UsersFileError } from '../registrar/users.js';
import type { ParsedCertificate } from '../tls/certificate.js';
import { toAsciiHostName } from '../tls/host-name.js';
import { matchSipDomain } from '../tls/identity.js';
import { TrustStore } from '../tls/trust-store.js';
import { resolveTxTimers } from '../transaction/tx-timers.js';
import type { ListenerSpec, ServerCertificate } from '../transport/transport-layer.js';
import { errorCode, fsErrorText, LoadContext } from './config-context.js';
import { certificateCovers, loadDomain, readCertificates, type ProxyDomain } from './config-domain.js';
import { closestKey, ProxyConfigError, YamlLocator, type ConfigIssue, type KeyPath } from './config-issues.js';
import { isUnspecifiedAddress, parseAdvertise, parseListenUrl, socketKey, type ListenAddress } from './config-listen.js';
import { LIMIT_FAMILIES, proxyConfigSchema, type LogLevel, type ProxyConfigInput } from './config-schema.js';
import { DEFAULT_HOP_POLICIES, type HopPolicies } from './contracts.js';

export { ProxyConfigError, renderIssue, type ConfigIssue } from './config-issues.js';
export type { ProxyDomain } from './config-domain.js';
export type { LogLevel } from './config-schema.js';

/**
 * One listener: a ListenerSpec as it is (TLS and WSS listeners carry every domain's certificate,
 * SNI picks one), plus the host and port it puts into Via sent-by and Record-Route.
 */
export interface ProxyListener extends ListenerSpec {
  /** The URL as written in `listen:`. */
  readonly url: string;
  /** A host name (A-labels) or an IP address: `advertise`, else the domain, else the bound address. */
  readonly advertisedHost: string;
  /** `advertise`'s port, else the listener's; 0 when the listener's is (then: the port bound at start). */
  readonly advertisedPort: number;
  /** Where advertisedHost came from, for the start-up log. */
  readonly advertisedFrom: 'advertise' | 'domain' | 'address';
}

export interface ProxyTrust {
  /** The `trust.ca` files, with how many certificates each held. */
  readonly ca: readonly { readonly file: string; readonly certificates: readonly ParsedCertificate[] }[];
  /** Whether the system roots (Node's bundled Mozilla roots) are trusted too (`trust.system`, default true). */
  readonly system: boolean;
  /** The anchors for verifying TLS peers: the system roots (unless off) and the `trust.ca` certificates. */
  readonly store: TrustStore;
}

export type ProxyLocation =
  /** An SQLite file (created when missing), or `:memory:` (bindings die with the process). */
  | { readonly kind: 'sqlite'; readonly path: string }
  /** A Redis server shared by the instances of a domain; `url` as node-redis takes it. */
  | { readonly kind: 'redis'; readonly url: string; readonly host: string; readonly port: number; readonly db: number; readonly tls: boolean };

export interface ProxyLimits {
  readonly sip: SipLimits;
  readonly tls: TlsLimits;
  readonly dns: DnsLimits;
  readonly transport: TransportLimits;
  readonly transaction: TxLimits;
  readonly auth: AuthLimits;
  readonly registrar: RegistrarLimits;
  readonly location: LocationLimits;
}

export interface ProxyConfig {
  /** The config file as given, and its directory (relative names in it are relative to that). */
  readonly file: string;
  readonly directory: string;
  /** In file order; the first is the default certificate for clients that send no SNI. */
  readonly domains: readonly ProxyDomain[];
  readonly listeners: readonly ProxyListener[];
  readonly trust: ProxyTrust;
  /** `dns.unbound`: a libunbound config file; undefined: libunbound with the root trust anchor. */
  readonly dns: { readonly unbound: string | undefined };
  readonly users: {
    /** undefined: no users file, so no local user (every REGISTER is challenged and fails). */
    readonly file: string | undefined;
    readonly directory: UserDirectory;
  };
  readonly auth: {
    /** Challenges offered, in this order (RFC 8760 section 2.3). */
    readonly algorithms: readonly DigestAlgorithm[];
    /** The nonce key (DigestAuthenticatorOptions.secret): `auth.secret-file`'s bytes, or random for this process. */
    readonly secret: Uint8Array;
    readonly secretFile: string | undefined;
  };
  readonly location: ProxyLocation;
  readonly log: { readonly level: LogLevel; readonly format: 'json' | 'text' };
  /**
   * `outbound-source`: where outbound TCP/TLS/WS/WSS connections leave from: `listener` (default),
   * the address of the first listener of their transport and family; `system`, the system's routes.
   */
  readonly outboundSource: 'listener' | 'system';
  /** Every family the proxy uses, defaults merged with `limits:`. */
  readonly limits: ProxyLimits;
  /** Transaction timers with `timers:` applied (Timer C: timerCMs); derived timers follow T1 and T4. */
  readonly timers: TxTimers;
  /** The hop-security policies, defaults merged with `policy:` (docs/PROXY.md "Policies"). */
  readonly policy: HopPolicies;
  /** For the log at start, at warn level: plain passwords in the users file, shared key files ... */
  readonly warnings: readonly string[];
  /** For the log at start, at info level: defaults that matter (a random nonce key ...). */
  readonly notes: readonly string[];
}

export interface LoadProxyConfigOptions {
  /** Whether the log goes to a terminal: then the default log format is text, else JSON. */
  readonly terminal?: boolean;
  /** The time certificates must be valid at; default now. */
  readonly now?: Date;
  /** Source of the random nonce key when `auth.secret-file` is absent. */
  readonly randomBytes?: (n: number) => Uint8Array;
}

/** Bytes of the random nonce key made when none is configured (HMAC-SHA-256 key length). */
const RANDOM_SECRET_BYTES = 32;
/** The shortest nonce key accepted (DigestAuthenticator's floor). */
const MIN_SECRET_BYTES = 16;

/** Reads and checks a config file; throws ProxyConfigError with every fault found. */
export async function loadProxyConfig(file: string, options: LoadProxyConfigOptions = {}): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ProxyConfigError([{ file, line: undefined, path: '', message: `cannot read the config file: ${fsErrorText(err)}` }]);
  }
  return parseProxyConfig(text, file, options);
}

/** Checks the text of a config file that lives at `file` (relative names are resolved beside it). */
export async function parseProxyConfig(text: string, file: string, options: LoadProxyConfigOptions = {}): Promise<ProxyConfig> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ProxyConfigError(doc.errors.map((e) => ({ file, line: lines.linePos(e.pos[0]).line, path: '', message: e.message.split('\n')[0] ?? e.message })));
  }
  const locator = new YamlLocator(doc, lines);
  const ctx = new LoadContext(file, locator, options.now ?? new Date());
  let root: unknown;
  try {
    root = doc.toJS();
  } catch (err) {
    // yaml refuses aliases that expand without bound (a "billion laughs" file).
    throw new ProxyConfigError([{ file, line: undefined, path: '', message: `cannot be read as data: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  // An empty file reads as null: report the keys it lacks rather than a type.
  const parsed = proxyConfigSchema.safeParse(root ?? {});
  if (!parsed.success) {
    const issues = flattenIssues(parsed.error.issues);
    for (const issue of issues) {
      if (!isMisspelledRequiredKey(issue, issues, root)) ctx.fail(issue.path as KeyPath, schemaMessage(issue, root));
    }
    throw new ProxyConfigError(sortIssues(ctx.issues));
  }
  const config = await checkConfig(ctx, parsed.data, options);
  if (ctx.issues.length > 0 || config === undefined) throw new ProxyConfigError(sortIssues(ctx.issues));
  return config;
}

/** A union's issues are those of the branch the value was meant for: not the ones whose type it is not. */
function flattenIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code !== 'invalid_union') {
      out.push(issue);
      continue;
    }
    const branches = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (branches.length === 0) {
      out.push({ ...issue, message: 'must be a URL string, or a map with url and advertise' });
      continue;
    }
    for (const branch of branches) out.push(...flattenIssues(branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))));
  }
  return out;
}

/**
 * A required key that is missing because it is misspelled (`certficate:`) is reported once, as the
 * unknown key with the right name suggested, not again as missing.
 */
function isMisspelledRequiredKey(issue: z.core.$ZodIssue, all: readonly z.core.$ZodIssue[], root: unknown): boolean {
  if (issue.code !== 'invalid_type' || valueAt(root, issue.path) !== undefined) return false;
  const key = issue.path.at(-1);
  if (typeof key !== 'string') return false;
  const parent = issue.path.slice(0, -1);
  return all.some((other) => {
    if (other.code !== 'custom' || other.params?.['unknownKey'] !== true || other.path.length !== issue.path.length) return false;
    if (!parent.every((part, i) => other.path[i] === part)) return false;
    return closestKey(String(other.path.at(-1)), [key]) !== undefined;
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value === 'string' ? 'the text' : `the ${typeof value}`} ${JSON.stringify(value)}`;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { int: 'a whole number', object: 'a map', array: 'a list', string: 'text', number: 'a number', boolean: 'true or false', record: 'a map' };

/** zod's issue in the config's words: "must be a list, not the text "tls://..."". */
function schemaMessage(issue: z.core.$ZodIssue, root: unknown): string {
  if (issue.code === 'invalid_type') {
    const value = valueAt(root, issue.path);
    if (value === undefined) return 'is required';
    return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${describe(value)}`;
  }
  return issue.message;
}

function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : 0));
}

async function checkConfig(ctx: LoadContext, input: ProxyConfigInput, options: LoadProxyConfigOptions): Promise<ProxyConfig | undefined> {
  const domains = await checkDomains(ctx, input);
  const policy = hopPolicies(input);
  const listeners = checkListeners(ctx, input, domains, policy.viaTrail);
  const trust = await checkTrust(ctx, input);
  const dns = await checkDns(ctx, input);
  const users = await checkUsers(ctx, input, domains);
  const auth = await checkAuth(ctx, input, options);
  const location = await checkLocation(ctx, input);
  const limits = checkLimits(ctx, input);
  const timers = checkTimers(ctx, input);
  if (ctx.issues.length > 0 || domains === undefined || listeners === undefined || trust === undefined || users === undefined || auth === undefined || location === undefined || limits === undefined || timers === undefined) return undefined;
  return Object.freeze({
    file: ctx.file,
    directory: ctx.directory,
    domains,
    listeners,
    trust,
    dns,
    users,
    auth,
    location,
    log: Object.freeze({ level: input.log?.level ?? 'info', format: input.log?.format ?? (options.terminal === true ? 'text' : 'json') }),
    outboundSource: input['outbound-source'] ?? 'listener',
    limits,
    timers,
    policy,
    warnings: Object.freeze([...ctx.warnings]),
    notes: Object.freeze([...ctx.notes]),
  });
}

async function checkDomains(ctx: LoadContext, input: ProxyConfigInput): Promise<readonly ProxyDomain[] | undefined> {
  const keys = Object.keys(input.domains);
  if (keys.length === 0) {
    ctx.fail(['domains'], 'needs at least one domain, with its certificate and key');
    return undefined;
  }
  const seen = new Map<string, string>();
  const domains: ProxyDomain[] = [];
  let failed = false;
  for (const key of keys) {
    const reading = toAsciiHostName(key);
    if (!reading.ok) {
      ctx.fail(['domains', key], `a SIP domain must be a DNS name: ${JSON.stringify(key)} ${reading.why}`);
      failed = true;
      continue;
    }
    const name = reading.ascii.toLowerCase();
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      ctx.fail(['domains', key], `is the domain ${earlier} again (domain names ignore case)`);
      failed = true;
      continue;
    }
    seen.set(name, key);
    const entry = input.domains[key] as { certificate: string; key: string };
    const domain = await loadDomain(ctx, key, name, entry);
    if (domain === undefined) failed = true;
    else domains.push(domain);
  }
  return failed ? undefined : Object.freeze(domains);
}

function checkListeners(ctx: LoadContext, input: ProxyConfigInput, domains: readonly ProxyDomain[] | undefined, viaTrail: boolean): readonly ProxyListener[] | undefined {
  interface Draft { readonly at: KeyPath; readonly url: string; readonly address: ListenAddress; readonly host: string; readonly port: number; readonly from: ProxyListener['advertisedFrom'] }
  const drafts: Draft[] = [];
  const sockets = new Map<string, { index: number; url: string }>();
  const domainNames = domains?.map((d) => d.name) ?? Object.keys(input.domains);
  let failed = false;
  for (const [index, entry] of input.listen.entries()) {
    const url = typeof entry === 'string' ? entry : entry.url;
    const urlAt: KeyPath = typeof entry === 'string' ? ['listen', index] : ['listen', index, 'url'];
    const parsed = parseListenUrl(url);
    if (!parsed.ok) {
      ctx.fail(urlAt, parsed.why);
      failed = true;
      continue;
    }
    const address = parsed.value;
    const key = socketKey(address);
    const earlier = key === undefined ? undefined : sockets.get(key);
    if (earlier !== undefined) {
      ctx.fail(urlAt, earlier.url === url ? `is listed twice (also listen[${earlier.index}])` : `binds the same ${address.transport === 'udp' ? 'UDP' : 'TCP'} port as listen[${earlier.index}] (${earlier.url})`);
      failed = true;
      continue;
    }
    if (key !== undefined) sockets.set(key, { index, url });
    const advertise = typeof entry === 'string' ? undefined : entry.advertise;
    const at: KeyPath = ['listen', index];
    if (advertise !== undefined) {
      const adv = parseAdvertise(advertise);
      if (!adv.ok) {
        ctx.fail(['listen', index, 'advertise'], adv.why);
        failed = true;
        continue;
      }
      drafts.push({ at: ['listen', index, 'advertise'], url, address, host: adv.value.host, port: adv.value.port ?? address.port, from: 'advertise' });
    } else if (domainNames.length === 1) {
      drafts.push({ at, url, address, host: domainNames[0] as string, port: address.port, from: 'domain' });
    } else if (address.transport === 'tls' || address.transport === 'wss') {
      ctx.fail(at, `with several domains a ${address.transport} listener needs advertise: the host name peers see in Via and Record-Route, covered by one of the certificates`);
      failed = true;
    } else if (isUnspecifiedAddress(address.address)) {
      ctx.fail(at, `with several domains a listener on every address (${address.address}) needs advertise: the host name or address peers reach it at, for Via and Record-Route`);
      failed = true;
    } else {
      drafts.push({ at, url, address, host: address.address, port: address.port, from: 'address' });
    }
  }
  if (failed || domains === undefined) return undefined;
  // A TLS hop's Via and Record-Route name a host our certificate covers, never an address: it is
  // what a peer checking the Via trail (draft-gurbani section 5.5) compares with our certificate.
  for (const d of drafts) {
    if (d.address.transport !== 'tls' && d.address.transport !== 'wss') continue;
    const why = advertisedNameFault(d.host, domains, viaTrail);
    if (why !== undefined) {
      ctx.fail(d.at, `${d.url} (${d.address.transport} listener): ${why}`);
      failed = true;
    }
  }
  if (failed) return undefined;
  for (const d of drafts) {
    if (d.address.transport === 'tls' || d.address.transport === 'wss') warnDomainsNotNaming(ctx, d.at, `${d.url} (${d.address.transport} listener)`, d.host, domains);
  }
  const certificates = serverCertificates(domains, drafts.filter((d) => d.address.transport === 'tls' || d.address.transport === 'wss').map((d) => d.host));
  return Object.freeze(
    drafts.map((d) =>
      Object.freeze({
        url: d.url,
        transport: d.address.transport,
        address: d.address.address,
        port: d.address.port,
        ...(d.address.path !== undefined ? { path: d.address.path } : {}),
        ...(d.address.transport === 'tls' || d.address.transport === 'wss' ? { certificates } : {}),
        advertisedHost: d.host,
        advertisedPort: d.port,
        advertisedFrom: d.from,
      }),
    ),
  );
}

/**
 * Why a TLS or WSS listener's advertised host would fail a far proxy's via-trail check, if it
 * would: the far side knows our certificate only by its SIP domain identities (RFC 5922 section
 * 7.1, what a verdict's peerIdentities holds), so the name must be one of them, exactly; a dNSName
 * beside sip URI identities does not count, nor does a wildcard.
 */
function advertisedNameFault(host: string, domains: readonly ProxyDomain[], viaTrail: boolean): string | undefined {
  const identities = domains.flatMap((d) => d.identities).join(', ');
  const address = !toAsciiHostName(host).ok;
  if (address && viaTrail) {
    return `advertises the IP address ${host}, but with policy via-trail on a far proxy checks that our Via sent-by and Record-Route name a host our certificate covers, and no certificate proves an address: advertise one of ${identities}`;
  }
  if (domains.some((domain) => namesSipIdentity(domain, host))) return undefined;
  return `advertises the ${address ? 'IP address' : 'host'} ${host}, which is not covered by any domain's certificate (RFC 5922 section 7.1 identities: ${identities}), so a far proxy checking the Via trail refuses our requests: advertise one of them, or put the name into the certificate`;
}

/** Whether the domain's certificate has the host as a SIP domain identity (RFC 5922 section 7.1, exact, no wildcard). */
function namesSipIdentity(domain: ProxyDomain, host: string): boolean {
  const leaf = domain.chain[0];
  return leaf !== undefined && matchSipDomain(leaf, host, { allowWildcard: false }).matched;
}

/**
 * A warning for each domain whose certificate does not name a TLS or WSS listener's advertised
 * host: every outbound hop carries that host in Via and Record-Route but presents its From
 * domain's certificate, so a far via-trail check (draft-gurbani section 5.5) refuses that domain's
 * requests. Not a fault: the far side may not check the Via trail, and one domain covering the
 * name is already required (advertisedNameFault).
 */
function warnDomainsNotNaming(ctx: LoadContext, at: KeyPath, listener: string, host: string, domains: readonly ProxyDomain[]): void {
  for (const domain of domains) {
    if (namesSipIdentity(domain, host)) continue;
    ctx.warn(at, `${listener} advertises ${host} in Via and Record-Route, which is not a SIP identity of the certificate of domain ${domain.name} ` +
      `(RFC 5922 section 7.1 identities: ${domain.identities.join(', ') || 'none'}), yet ${domain.name}'s requests go out presenting that certificate: ` +
      `a far proxy checking the Via trail (draft-gurbani section 5.5) refuses them with 403 via-sent-by-mismatch. ` +
      `Give ${domain.name} a certificate that also names ${host} (sip:${host} beside sip:${domain.name}), or a hosting certificate that names both`);
  }
}

/** Each domain's certificate, presented for the domain and for the advertised names it covers (SNI). */
function serverCertificates(domains: readonly ProxyDomain[], advertised: readonly string[]): readonly ServerCertificate[] {
  return Object.freeze(
    domains.map((domain) => {
      const extra = [...new Set(advertised)].filter((host) => host !== domain.name && certificateCovers(domain, host));
      return Object.freeze({ domains: Object.freeze([domain.name, ...extra]), cert: domain.cert, key: domain.key });
    }),
  );
}

async function checkTrust(ctx: LoadContext, input: ProxyConfigInput): Promise<ProxyTrust | undefined> {
  const files = input.trust?.ca ?? [];
  const system = input.trust?.system ?? true;
  const ca: { file: string; certificates: readonly ParsedCertificate[] }[] = [];
  let failed = false;
  for (const [i, name] of files.entries()) {
    const at: KeyPath = ['trust', 'ca', i];
    const read = await ctx.read(at, name);
    const certificates = read === undefined ? undefined : readCertificates(ctx, at, read.file, read.bytes);
    if (read === undefined || certificates === undefined) failed = true;
    else ca.push(Object.freeze({ file: read.file, certificates: Object.freeze(certificates) }));
  }
  if (failed) return undefined;
  if (!system && ca.length === 0) ctx.warn(['trust', 'system'], 'no trust anchor at all: only DANE (a secure TLSA RRset) can authenticate a peer');
  const own = new TrustStore(ca.flatMap((c) => c.certificates));
  return Object.freeze({ ca: Object.freeze(ca), system, store: system ? TrustStore.system().with(own) : own });
}

async function checkDns(ctx: LoadContext, input: ProxyConfigInput): Promise<{ readonly unbound: string | undefined }> {
  const name = input.dns?.unbound;
  if (name === undefined) return Object.freeze({ unbound: undefined });
  // libunbound reads its file at the first question: only that it can be read is known here.
  const read = await ctx.read(['dns', 'unbound'], name);
  return Object.freeze({ unbound: read?.file });
}

async function checkUsers(ctx: LoadContext, input: ProxyConfigInput, domains: readonly ProxyDomain[] | undefined): Promise<ProxyConfig['users'] | undefined> {
  if (input.users === undefined) {
    ctx.notes.push('no users file (users:): the domain has no local users, so no REGISTER or outgoing call can authenticate');
    return Object.freeze({ file: undefined, directory: new UserDirectory(new Map()) });
  }
  const read = await ctx.read(['users'], input.users);
  if (read === undefined) return undefined;
  const text = read.bytes.toString('utf8');
  let directory: UserDirectory;
  try {
    const parsed = parseUsersFile(text, read.file);
    directory = parsed.users;
    ctx.warnings.push(...parsed.warnings);
  } catch (err) {
    if (!(err instanceof UsersFileError)) throw err;
    for (const issue of err.issues) ctx.issues.push({ file: read.file, line: issue.line, path: issue.path, message: issue.message });
    return undefined;
  }
  await ctx.warnIfShared(['users'], read.file, 'digest credentials');
  if (domains === undefined) return Object.freeze({ file: read.file, directory });
  // Every user belongs to a served domain: a user of another one could never be challenged in its realm.
  const names = new Set(domains.map((d) => d.name));
  const { doc, lines } = parseUsersDocument(text, read.file);
  const locator = new YamlLocator(doc, lines);
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const address = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      if (!names.has(domain)) {
        ctx.issues.push({ file: read.file, line: locator.lineOf([address]), path: address, message: `the domain ${domain} is not one of the proxy's domains (${[...names].join(', ')}, in ${ctx.file})` });
      }
    }
  }
  return Object.freeze({ file: read.file, directory });
}

async function checkAuth(ctx: LoadContext, input: ProxyConfigInput, options: LoadProxyConfigOptions): Promise<ProxyConfig['auth'] | undefined> {
  const algorithms = input.auth?.algorithms ?? DIGEST_ALGORITHMS;
  const seen = new Set<string>();
  for (const [i, algorithm] of algorithms.entries()) {
    if (seen.has(algorithm)) ctx.fail(['auth', 'algorithms', i], `${algorithm} is listed twice (RFC 8760 section 2.3: one challenge per algorithm)`);
    seen.add(algorithm);
  }
  const name = input.auth?.['secret-file'];
  if (name === undefined) {
    ctx.notes.push('no auth.secret-file: the nonce key is random for this process, so several instances cannot check each other\'s nonces and a restart makes clients authenticate again');
    const secret = Uint8Array.from((options.randomBytes ?? cryptoRandomBytes)(RANDOM_SECRET_BYTES));
    return Object.freeze({ algorithms: Object.freeze([...algorithms]), secret, secretFile: undefined });
  }
  const read = await ctx.read(['auth', 'secret-file'], name);
  if (read === undefined) return undefined;
  if (read.bytes.length < MIN_SECRET_BYTES) {
    ctx.fail(['auth', 'secret-file'], `${read.file} holds ${read.bytes.length} bytes; the nonce key needs at least ${MIN_SECRET_BYTES} (head -c 32 /dev/urandom > ${path.basename(read.file)})`);
    return undefined;
  }
  await ctx.warnIfShared(['auth', 'secret-file'], read.file, 'the nonce key');
  return Object.freeze({ algorithms: Object.freeze([...algorithms]), secret: Uint8Array.from(read.bytes), secretFile: read.file });
}

/** `sqlite:FILE` (default `sqlite:location.db` beside the config) or `redis://host:port/db`. */
async function checkLocation(ctx: LoadContext, input: ProxyConfigInput): Promise<ProxyLocation | undefined> {
  const value = input.location ?? 'sqlite:location.db';
  const at: KeyPath = ['location'];
  if (value.startsWith('sqlite:')) {
    const name = value.slice('sqlite:'.length);
    if (name === '') {
      ctx.fail(at, 'sqlite: needs a file name (sqlite:location.db)');
      return undefined;
    }
    if (name === ':memory:') {
      ctx.warn(at, 'sqlite::memory: keeps bindings in this process only: a restart loses every registration');
      return Object.freeze({ kind: 'sqlite', path: name });
    }
    const file = ctx.resolve(name);
    // The file is created at start when missing: its directory must be there and writable.
    const dirWritable = await fs.access(path.dirname(file), fs.constants.W_OK).then(() => undefined, fsErrorText);
    if (dirWritable !== undefined) {
      ctx.fail(at, `the directory of ${file} cannot be written: ${dirWritable}`);
      return undefined;
    }
    const fileState = await fs.access(file, fs.constants.R_OK | fs.constants.W_OK).then(() => undefined, (err: unknown) => err);
    if (fileState !== undefined && errorCode(fileState) !== 'ENOENT') {
      ctx.fail(at, `${file} cannot be read and written: ${fsErrorText(fileState)}`);
      return undefined;
    }
    return Object.freeze({ kind: 'sqlite', path: file });
  }
  if (/^rediss?:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.fail(at, `${JSON.stringify(value)} is not a URL (redis://HOST:PORT/DB)`);
      return undefined;
    }
    const db = url.pathname === '' || url.pathname === '/' ? 0 : /^\/\d{1,5}$/.test(url.pathname) ? Number(url.pathname.slice(1)) : undefined;
    const why =
      url.hostname === '' ? 'has no host'
      : db === undefined ? `the database must be a number (redis://${url.host}/0), not ${JSON.stringify(url.pathname.slice(1))}`
      : url.search !== '' || url.hash !== '' ? 'takes no query or fragment'
      : undefined;
    if (why !== undefined) {
      ctx.fail(at, `${redact(url)} ${why}`);
      return undefined;
    }
    const tls = url.protocol.toLowerCase() === 'rediss:';
    return Object.freeze({ kind: 'redis', url: value, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port), db: db ?? 0, tls });
  }
  ctx.fail(at, `must be "sqlite:FILE" or "redis://HOST:PORT/DB", not ${JSON.stringify(value)}`);
  return undefined;
}

/** A Redis URL without its password, for messages and logs. */
export function redact(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

function checkLimits(ctx: LoadContext, input: ProxyConfigInput): ProxyLimits | undefined {
  const given = (input.limits ?? {}) as Partial<Record<keyof typeof LIMIT_FAMILIES, Record<string, number> | null | undefined>>;
  const merged = {} as Record<keyof typeof LIMIT_FAMILIES, Readonly<Record<string, number>>>;
  for (const [family, defaults] of Object.entries(LIMIT_FAMILIES) as [keyof typeof LIMIT_FAMILIES, Readonly<Record<string, number>>][]) {
    merged[family] = mergeLimits(`limits.${family}`, defaults, given[family] ?? undefined);
  }
  const registrar = merged.registrar as RegistrarLimits;
  if (registrar.minExpiresSeconds > registrar.maxExpiresSeconds) {
    ctx.fail(['limits', 'registrar', given.registrar?.['minExpiresSeconds'] !== undefined ? 'minExpiresSeconds' : 'maxExpiresSeconds'], `minExpiresSeconds (${registrar.minExpiresSeconds}) is above maxExpiresSeconds (${registrar.maxExpiresSeconds})`);
    return undefined;
  }
  return Object.freeze(merged as unknown as ProxyLimits);
}

function checkTimers(ctx: LoadContext, input: ProxyConfigInput): TxTimers | undefined {
  const given = Object.fromEntries(Object.entries(input.timers ?? {}).filter(([, v]) => v !== undefined)) as Partial<TxTimers>;
  const t1 = given.t1Ms ?? TX_TIMERS.t1Ms;
  const t2 = given.t2Ms ?? TX_TIMERS.t2Ms;
  if (t1 <= 0) {
    ctx.fail(['timers', 't1Ms'], 'must be > 0 (every retransmission interval derives from it)');
    return undefined;
  }
  if (t2 < t1) {
    ctx.fail(['timers', given.t2Ms !== undefined ? 't2Ms' : 't1Ms'], `t2Ms (${t2}) must not be below t1Ms (${t1})`);
    return undefined;
  }
  const timers = resolveTxTimers(given);
  if (given.timerCMs !== undefined && given.timerCMs < 180_000) {
    ctx.warn(['timers', 'timerCMs'], `${given.timerCMs} ms: RFC 3261 section 16.6 step 11 asks for more than 3 minutes; a shorter Timer C ends calls still ringing`);
  }
  return timers;
}

/** `policy:` over DEFAULT_HOP_POLICIES; peer identities and their domains compared in lower case. */
function hopPolicies(input: ProxyConfigInput): HopPolicies {
  const p = input.policy ?? {};
  const d = DEFAULT_HOP_POLICIES;
  const peers = new Map<string, readonly string[]>();
  for (const [identity, domains] of Object.entries(p.peers ?? {})) peers.set(identity.toLowerCase().replace(/\.$/, ''), domains.map((x) => x.toLowerCase().replace(/\.$/, '')));
  return Object.freeze({
    mutualTls: p['mutual-tls'] ?? d.mutualTls,
    peers,
    reverseDns: p['reverse-dns'] ?? d.reverseDns,
    viaTrail: p['via-trail'] ?? d.viaTrail,
    promoteSips: p['promote-sips'] ?? d.promoteSips,
    requireDnssec: p['require-dnssec'] ?? d.requireDnssec,
    requireDane: p['require-dane'] ?? d.requireDane,
    connectionReuse: p['connection-reuse'] ?? d.connectionReuse,
  });
}
