import { DnsError } from '../dns/errors.js';
import { locateInputOf } from '../dns/locate-uri.js';
import { locate, type LocatedTarget, type LocateResult } from '../dns/locator.js';
import type { TlsaRrset } from '../dns/tlsa-record.js';
import { lookupTlsaForTarget } from '../dns/tlsa-lookup.js';
import { SipParseError } from '../sip/errors.js';
import { parseUri } from '../sip/uri.js';
import { asciiUriArgument } from './uri-argument.js';
import { EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { createResolverFor, DNS_OPTIONS } from './dns-options.js';
import { jsonDocument } from './json-output.js';
import { startProgress } from './progress.js';
import { jsonLookup, lookupLine, noTargetExit, noTargetLine, type JsonLookup } from './lookup-output.js';

const USAGE = `usage: sipsec resolve URI [--dns-config FILE] [--json] [--tls-first] [--tlsa] [--backend NAME] [--server ADDR]
  Locates the servers of a sip: or sips: URI (RFC 3263: NAPTR, SRV, A/AAAA) and prints the
  targets in failover order with the DNSSEC state of every lookup.
  --dns-config FILE  Unbound-syntax config for the in-process validator (stub zones, trust anchors)
  --tls-first        try _sips._tcp first for a sip: URI without NAPTR (as a proxy does)
  --tlsa             also look up the TLSA records of each TLS target whose lookups were all secure
  --backend NAME     libunbound (default: validates in-process from the root trust anchor),
                     ad-bit (trust the AD bit of --server), system (no validation)
  --server ADDR      the validating resolver for ad-bit, or the server for system (ip[:port])
  --json             one JSON document (schema sipsec.resolve/1, docs/CLI.md): the targets, and
                     every lookup with its outcome (records, nxdomain, nodata, failure), its
                     DNSSEC state and its records
exit: 0 at least one target, 1 no target because a lookup was bogus (DNSSEC), 2 usage or
      configuration error, 3 no target otherwise (no such name or service, timeout, resolver unreachable)`;

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
      const uri = parseUri(asciiUriArgument(text));
      if (uri.type !== 'sip') throw new UsageError(`not a sip: or sips: URI: ${text}`);
      input = locateInputOf(uri);
    } catch (err) {
      if (err instanceof SipParseError || err instanceof DnsError) throw new UsageError(`bad URI ${text}: ${err.message}`, { cause: err });
      throw err;
    }
    const resolver = await createResolverFor(values);
    const progress = startProgress(io, `resolving ${text}`);
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
      progress.stop();
      await resolver.close();
    }
    const code = result.targets.length > 0 ? EXIT_OK : noTargetExit(result.lookups);
    io.stdout(values.json === true ? jsonDocument('resolve', { ...toJson(text, result, tlsa), backend: resolver.backend, exit: code }) : toText(text, resolver.backend, result, tlsa));
    return code;
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


function toText(uri: string, backend: string, result: LocateResult, tlsa: ReadonlyMap<LocatedTarget, TlsaRrset>): string {
  const lines = [`${uri}: SIP domain ${result.domain}, resolver ${backend}`];
  if (result.targets.length === 0) {
    lines.push(noTargetLine(result.lookups));
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
  for (const step of result.lookups) lines.push(`  ${lookupLine(step)}`);
  return `${lines.join('\n')}\n`;
}
