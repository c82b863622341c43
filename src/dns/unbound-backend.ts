import { existsSync } from 'node:fs';
import { DNS_LIMITS } from '../limits.js';
import type { DnsBackend } from './backend.js';
import { decodeMessage, answerFromMessage } from './dns-message.js';
import { DnsConfigError, DnsError } from './errors.js';
import { RECORD_TYPE_CODES, type DnsAnswer, type DnsRecordType } from './records.js';

/** Debian's root trust anchor (package dns-root-data), in DNSKEY form. */
export const DEBIAN_ROOT_ANCHOR_FILE = '/usr/share/dns/root.key';

export interface UnboundBackendConfig {
  /** An Unbound-syntax config file (stub zones, trust anchors) read after sipsec's own options. */
  readonly configFile?: string;
  /** The root trust anchor file; `null` to use none (then only the config file's anchors apply). */
  readonly rootAnchorFile?: string | null;
  /** Extra trust anchors in DS or DNSKEY presentation form. */
  readonly trustAnchors?: readonly string[];
}

/** What sipsec uses of the `unbound` npm package (bindings to libunbound). */
export interface UnboundNative {
  setOption(option: string, value: string): unknown;
  setConfig(file: string): unknown;
  addTrustAnchor(anchor: string): unknown;
  addTrustAnchorFile(file: string, autr?: boolean): unknown;
  resolve(name: string, type: number, klass?: number): Promise<UnboundNativeResult>;
}

export interface UnboundNativeResult {
  readonly rcode: number;
  readonly answerPacket?: Uint8Array | null;
  readonly haveData: boolean;
  readonly nxDomain: boolean;
  readonly secure: boolean;
  readonly bogus: boolean;
  readonly whyBogus: string | null;
}

type UnboundConstructor = new () => UnboundNative;

/** How the native module is loaded; replaced in a test to show the error for a missing module. */
export type UnboundLoader = () => Promise<UnboundConstructor>;

export const INSTALL_UNBOUND_HINT =
  "the in-process DNSSEC validator needs the optional npm package 'unbound' built against libunbound: " +
  "install the library with 'apt-get install libunbound-dev' (Debian) and run 'npm install unbound', " +
  "or choose the 'ad-bit' or 'system' DNS backend";

/** Loads the `unbound` package (CommonJS, no types) by a specifier the compiler does not resolve. */
export const loadUnboundModule: UnboundLoader = async () => {
  const specifier = 'unbound';
  const mod: unknown = await import(specifier);
  const ctor = (mod as { default?: unknown }).default ?? mod;
  if (typeof ctor !== 'function') throw new Error("module 'unbound' does not export a constructor");
  return ctor as UnboundConstructor;
};

/**
 * In-process DNSSEC validation with libunbound: every answer is validated here, from the root
 * trust anchor (Debian's file) and any anchors of the config file. libunbound follows CNAME chains
 * and its `secure` covers the whole chain, so a chain's state is that of its weakest link.
 *
 * Not done: libunbound's own query runs on a libuv worker thread until libunbound gives up
 * (bounded by `infra-cache-max-rtt`), even after the resolver's deadline has answered the caller.
 */
export async function createUnboundBackend(
  config: UnboundBackendConfig,
  load: UnboundLoader = loadUnboundModule,
): Promise<DnsBackend> {
  const rootAnchorFile = config.rootAnchorFile === undefined ? DEBIAN_ROOT_ANCHOR_FILE : config.rootAnchorFile;
  if (config.configFile !== undefined && !existsSync(config.configFile)) {
    throw new DnsConfigError('configFile', `no such file: ${config.configFile}`);
  }
  if (rootAnchorFile !== null && !existsSync(rootAnchorFile)) {
    throw new DnsConfigError('rootAnchorFile', `no such file: ${rootAnchorFile} (Debian package dns-root-data)`);
  }
  let Unbound: UnboundConstructor;
  try {
    Unbound = await load();
  } catch (err) {
    throw new DnsError('DNS_ERR_BACKEND_UNAVAILABLE', INSTALL_UNBOUND_HINT, { cause: err });
  }
  const ub = new Unbound();
  try {
    ub.setOption('infra-cache-max-rtt', String(DNS_LIMITS.unboundMaxRttMs));
    ub.setOption('outbound-msg-retry', String(DNS_LIMITS.unboundOutboundRetries));
    ub.setOption('max-sent-count', String(DNS_LIMITS.unboundMaxSentCount));
    if (rootAnchorFile !== null) ub.addTrustAnchorFile(rootAnchorFile);
    for (const anchor of config.trustAnchors ?? []) ub.addTrustAnchor(anchor);
    // Read last so that the operator's file overrides sipsec's options.
    if (config.configFile !== undefined) ub.setConfig(config.configFile);
    // libunbound reads its configuration (and checks trust anchors) at the first question: ask
    // one it answers locally (RFC 6761 localhost), so that a bad configuration fails here.
    await ub.resolve('localhost', RECORD_TYPE_CODES.A);
  } catch (err) {
    throw new DnsError('DNS_ERR_BACKEND_CONFIG', `libunbound refused the configuration: ${errorText(err)}`, { cause: err });
  }
  let closed = false;
  return {
    name: 'libunbound',
    async lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
      if (closed) throw new DnsError('DNS_ERR_CLOSED', 'resolver closed');
      let result: UnboundNativeResult;
      try {
        result = await ub.resolve(name, RECORD_TYPE_CODES[type]);
      } catch (err) {
        return { kind: 'failure', name, type, cnames: [], state: 'indeterminate', failure: 'network', why: errorText(err) };
      }
      return answerFromUnbound(result, name, type);
    },
    close(): Promise<void> {
      // The binding frees its context when garbage collected; queries in flight finish first.
      closed = true;
      return Promise.resolve();
    },
  };
}

/** Maps libunbound's result (RFC 4035 section 4.3 states) to a DnsAnswer. */
export function answerFromUnbound<T extends DnsRecordType>(result: UnboundNativeResult, name: string, type: T): DnsAnswer<T> {
  const base = { name, type, cnames: [] };
  if (result.bogus) {
    return { ...base, kind: 'failure', state: 'bogus', failure: 'bogus', why: result.whyBogus ?? 'validation failure' };
  }
  if (result.rcode !== RCODE_NOERROR && result.rcode !== RCODE_NXDOMAIN) {
    const failure = result.rcode === RCODE_SERVFAIL ? 'servfail' : result.rcode === RCODE_REFUSED ? 'refused' : 'rcode';
    return { ...base, kind: 'failure', state: 'indeterminate', failure, why: `${rcodeName(result.rcode)}: no answer could be obtained` };
  }
  const packet = result.answerPacket ? decodeMessage(result.answerPacket) : undefined;
  if (packet === undefined) {
    return { ...base, kind: 'failure', state: 'indeterminate', failure: 'malformed', why: 'libunbound returned no readable answer packet' };
  }
  return answerFromMessage(packet, name, type, result.secure ? 'secure' : 'insecure');
}

const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;

function rcodeName(rcode: number): string {
  const names: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };
  return names[rcode] ?? `rcode(${rcode})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
