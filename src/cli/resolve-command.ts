import { DnsError } from '../dns/errors.js';
import { locateInputOf } from '../dns/locate-uri.js';
import { locate, type LocatedTarget, type LocateResult, type LookupStep } from '../dns/locator.js';
import type { TlsaRrset } from '../dns/tlsa-record.js';
import { lookupTlsaForTarget } from '../dns/tlsa-lookup.js';
import { SipParseError } from '../sip/errors.js';
import { parseUri } from '../sip/uri.js';
import { EXIT_FINDINGS, EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { createResolverFor, DNS_OPTIONS } from './dns-options.js';

const USAGE = `usage: sipsec resolve URI [--dns-config FILE] [--json] [--tls-first] [--tlsa] [--backend NAME] [--server ADDR]
  Locates the servers of a sip: or sips: URI (RFC 3263: NAPTR, SRV, A/AAAA) and prints the
  targets in failover order with the DNSSEC state of every lookup.
  --dns-config FILE  Unbound-syntax config for the in-process validator (stub zones, trust anchors)
  --json             one JSON object: {"uri","targets":[...],"lookups":[...]}
  --tls-first        try _sips._tcp first for a sip: URI without NAPTR (as a proxy does)
  --tlsa             also look up the TLSA records of each TLS target whose lookups were all secure
  --backend NAME     libunbound (default: validates in-process from the root trust anchor),
                     ad-bit (trust the AD bit of --server), system (no validation)
  --server ADDR      the validating resolver for ad-bit, or the server for system (ip[:port])
exit: 0 at least one target, 1 none, 2 usage or configuration error`;

interface JsonTarget {
  transport: string;
  address: string;
  port: number;
  srvHost?: string;
  dnssec: string;
  identities: readonly string[];
  tlsa?: JsonTlsa;
}

interface JsonTlsa {
  name: string;
  state: string;
  records: { usage: number; selector: number; matchingType: number; data: string }[];
  why?: string;
}

interface JsonLookup {
  name: string;
  type: string;
  state: string;
  why?: string;
}

export const resolveCommand: Command = {
  name: 'resolve',
  summary: 'locate the servers of a SIP URI (RFC 3263) with the DNSSEC state of each lookup',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ...DNS_OPTIONS,
        json: { type: 'boolean' },
        'tls-first': { type: 'boolean' },
        tlsa: { type: 'boolean' },
      },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no URI given' : 'one URI only');
    const text = positionals[0] ?? '';
    let input;
    try {
      const uri = parseUri(text);
      if (uri.type !== 'sip') throw new UsageError(`not a sip: or sips: URI: ${text}`);
      input = locateInputOf(uri);
    } catch (err) {
      if (err instanceof SipParseError || err instanceof DnsError) throw new UsageError(`bad URI ${text}: ${err.message}`, { cause: err });
      throw err;
    }
    const resolver = await createResolverFor(values);
    let result: LocateResult;
    const tlsa = new Map<LocatedTarget, TlsaRrset>();
    try {
      result = await locate(resolver, input, { tlsFirst: values['tls-first'] === true });
      if (values.tlsa === true) {
        for (const target of result.targets) {
          const rrset = await lookupTlsaForTarget(resolver, target);
          if (rrset !== undefined) tlsa.set(target, rrset);
        }
      }
    } catch (err) {
      if (err instanceof DnsError) throw new UsageError(`${text}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      await resolver.close();
    }
    io.stdout(values.json === true ? `${JSON.stringify(toJson(text, result, tlsa))}\n` : toText(text, resolver.backend, result, tlsa));
    return result.targets.length > 0 ? EXIT_OK : EXIT_FINDINGS;
  },
};

function toJson(uri: string, result: LocateResult, tlsa: ReadonlyMap<LocatedTarget, TlsaRrset>): { uri: string; targets: JsonTarget[]; lookups: JsonLookup[] } {
  return {
    uri,
    targets: result.targets.map((t) => {
      const rrset = tlsa.get(t);
      return {
        transport: t.transport,
        address: t.address,
        port: t.port,
        ...(t.srvHost === undefined ? {} : { srvHost: t.srvHost }),
        dnssec: t.dnssec,
        identities: t.identities,
        ...(rrset === undefined ? {} : { tlsa: jsonTlsa(rrset) }),
      };
    }),
    lookups: result.lookups.map(jsonLookup),
  };
}

function jsonTlsa(rrset: TlsaRrset): JsonTlsa {
  const json: JsonTlsa = {
    name: rrset.name,
    state: rrset.state,
    records: rrset.records.map((r) => ({ usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: Buffer.from(r.data).toString('hex') })),
  };
  if (rrset.why !== undefined) json.why = rrset.why;
  return json;
}

function jsonLookup(step: LookupStep): JsonLookup {
  const line: JsonLookup = { name: step.name, type: step.type, state: step.state };
  if (step.why !== undefined) line.why = step.why;
  return line;
}

function toText(uri: string, backend: string, result: LocateResult, tlsa: ReadonlyMap<LocatedTarget, TlsaRrset>): string {
  const lines = [`${uri}: SIP domain ${result.domain}, resolver ${backend}`];
  if (result.targets.length === 0) {
    lines.push('no target');
  } else {
    lines.push('targets, in failover order:');
    result.targets.forEach((t, i) => {
      const address = t.family === 6 ? `[${t.address}]` : t.address;
      const via = t.srvHost === undefined ? '' : ` via ${t.srvHost}`;
      lines.push(`  ${i + 1}. ${t.transport} ${address}:${t.port}${via}  dnssec ${t.dnssec}  identities ${t.identities.join(', ')}`);
      const rrset = tlsa.get(t);
      if (rrset !== undefined) {
        const records = rrset.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${Buffer.from(r.data).toString('hex')}`);
        const why = rrset.why === undefined ? '' : `  (${rrset.why})`;
        lines.push(`     TLSA ${rrset.name}: ${rrset.state}, ${records.length === 0 ? 'no records' : records.join('; ')}${why}`);
      }
    });
  }
  lines.push('lookups:');
  for (const step of result.lookups) {
    const why = step.why === undefined ? '' : `  (${step.why})`;
    lines.push(`  ${step.type} ${step.name}: ${step.result}, ${step.state}${why}`);
  }
  return `${lines.join('\n')}\n`;
}
