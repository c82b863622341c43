import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsBlackhole, type DnsBlackhole } from './dns-blackhole.js';
import { buildZones, type ZoneSpec } from '../../src/lab/dns-zones.js';
import { startNsd, type NsdServer } from '../../src/lab/nsd-server.js';
import { stubZoneLines, validatorServerLines, writeLibunboundConfig, type ValidatorConfig } from '../../src/lab/unbound-config.js';

/** TLSA association data used by the test zones (any 32 bytes: nothing is matched here). */
export const TEST_TLSA_HEX = 'a9cdf989b504fe5dca90c0d2167b6550570734f7c763e09fdf88904e06157065';

/**
 * The test zones, under the special-use `test.` TLD (RFC 6761), which is signed and is the trust
 * anchor. Children: `secure.test.` (signed, DS in parent), `insecure.test.` (unsigned, no DS),
 * `bogus.test.` (signed, DS, records changed after signing), `expired.test.` (signed with
 * signatures that expired in 2020), `servfail.test.` (delegated, configured in NSD without a
 * zone file: NSD answers SERVFAIL) and `timeout.test.` (delegated to a socket that never answers).
 */
export const TEST_ZONES: readonly ZoneSpec[] = [
  {
    origin: 'test.',
    signing: 'signed',
    records: [
      'ns IN A 127.0.0.1',
      'secure IN NS ns.test.',
      'insecure IN NS ns.test.',
      'bogus IN NS ns.test.',
      'expired IN NS ns.test.',
      'servfail IN NS ns.test.',
      'timeout IN NS ns.test.',
    ],
  },
  {
    origin: 'secure.test.',
    signing: 'signed',
    records: [
      // RFC 3263 section 4.1's example, plus two services a client must discard.
      '@ IN NAPTR 50 50 "s" "SIPS+D2T" "" _sips._tcp.secure.test.',
      '@ IN NAPTR 90 50 "s" "SIP+D2T" "" _sip._tcp.secure.test.',
      '@ IN NAPTR 100 50 "s" "SIP+D2U" "" _sip._udp.secure.test.',
      '@ IN NAPTR 110 50 "s" "SIPS+D2U" "" _sips._udp.secure.test.',
      '@ IN NAPTR 120 50 "s" "X-FOO+D2T" "" _foo._tcp.secure.test.',
      '_sips._tcp IN SRV 10 60 5061 sip1.secure.test.',
      '_sips._tcp IN SRV 10 40 5061 sip2.secure.test.',
      '_sips._tcp IN SRV 20 0 5061 backup.secure.test.',
      '_sip._tcp IN SRV 10 0 5060 sip1.secure.test.',
      '_sip._udp IN SRV 10 0 5060 sip1.secure.test.',
      'sip1 IN A 127.0.0.11',
      'sip1 IN AAAA fd00::11',
      'sip2 IN A 127.0.0.12',
      'backup IN A 127.0.0.13',
      `_5061._tcp.sip1 IN TLSA 3 1 1 ${TEST_TLSA_HEX}`,
      'www IN A 127.0.0.10',
      'alias IN CNAME www',
      'deep IN CNAME alias',
      'outside IN CNAME host.insecure.test.',
      'ptr IN PTR sip1.secure.test.',
      // A SIP domain without NAPTR: SRV only (TLS first looks for _sips._tcp).
      '_sips._tcp.nonaptr IN SRV 10 0 5061 sip1.secure.test.',
      '_sip._udp.nonaptr IN SRV 10 0 5060 sip2.secure.test.',
      // NAPTR that prefers UDP over TLS (TLS first moves TLS ahead).
      'udpfirst IN NAPTR 10 50 "s" "SIP+D2U" "" _sip._udp.secure.test.',
      'udpfirst IN NAPTR 20 50 "s" "SIPS+D2T" "" _sips._tcp.secure.test.',
      // A SIP domain with only an address.
      'plain IN A 127.0.0.30',
      // A secure SRV whose target lives in an insecure zone.
      '_sips._tcp.mixed IN SRV 10 0 5061 host.insecure.test.',
      // NAPTR whose first path is bogus, second path secure.
      'split IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.bogus.test.',
      'split IN NAPTR 20 50 "s" "SIP+D2T" "" _sip._tcp.secure.test.',
      // SRV whose first target has a bogus address and second a good one.
      '_sips._tcp.failover IN SRV 10 0 5061 sip.bogus.test.',
      '_sips._tcp.failover IN SRV 20 0 5061 sip2.secure.test.',
      // SRV whose first target times out and second is good.
      '_sips._tcp.slow IN SRV 10 0 5061 sip.timeout.test.',
      '_sips._tcp.slow IN SRV 20 0 5061 sip2.secure.test.',
      // An SRV RRset too large for a 1232-byte UDP answer: truncated, then asked over TCP.
      ...Array.from({ length: 30 }, (_, i) =>
        `_sips._tcp.big IN SRV 10 ${i} 5061 server-number-${i}-with-a-rather-long-host-name.secure.test.`),
    ],
  },
  {
    origin: 'insecure.test.',
    signing: 'unsigned',
    records: [
      '@ IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.insecure.test.',
      '_sips._tcp IN SRV 0 0 5061 host.insecure.test.',
      'host IN A 127.0.0.21',
      `_5061._tcp.host IN TLSA 3 1 1 ${TEST_TLSA_HEX}`,
    ],
  },
  {
    origin: 'bogus.test.',
    signing: 'signed',
    records: [
      'sip IN A 127.0.0.66',
      '_sips._tcp IN SRV 10 0 5061 sip.bogus.test.',
      `_5061._tcp.sip IN TLSA 3 1 1 ${TEST_TLSA_HEX}`,
      'fine IN A 127.0.0.67',
    ],
    tamper: [
      { from: /^(sip\.bogus\.test\.\s+\d+\s+IN\s+A\s+)127\.0\.0\.66$/m, to: '$1127.0.0.99' },
      { from: /^(_sips\._tcp\.bogus\.test\.\s+\d+\s+IN\s+SRV\s+10 0 )5061/m, to: '$16061' },
      { from: /^(_5061\._tcp\.sip\.bogus\.test\.\s+\d+\s+IN\s+TLSA\s+3 1 1 )a9/m, to: '$1b9' },
    ],
  },
  {
    // The reverse zone of TEST-NET-1 (RFC 5737), its own trust anchor: real PTR lookups.
    origin: '2.0.192.in-addr.arpa.',
    signing: 'signed',
    records: ['10 IN PTR sip1.secure.test.', '11 IN PTR sip2.secure.test.'],
  },
  {
    origin: 'expired.test.',
    signing: 'expired',
    records: ['sip IN A 127.0.0.77'],
  },
];

export interface DnsFixture {
  readonly dir: string;
  readonly nsd: NsdServer;
  readonly blackhole: DnsBlackhole;
  /** The DS records of `test.` and of the reverse zone: the trust anchors. */
  readonly trustAnchors: readonly string[];
  /** `server:` lines for a validator: the anchors, and `local-zone: nodefault` for the special-use zones. */
  readonly serverLines: readonly string[];
  /** An Unbound-syntax config for the in-process validator (libunbound) reaching these zones. */
  readonly unboundConfigFile: string;
  /** The stub-zone clauses of that config, to reuse in an Unbound daemon's config. */
  readonly stubLines: readonly string[];
  stop(): Promise<void>;
}

/**
 * Builds and signs the test zones in a fresh temporary folder, serves them with NSD, opens the
 * never-answering socket for `timeout.test.` and writes the libunbound config. `stop()` ends the
 * daemons and removes the folder; it is safe to call after a partial start.
 */
export async function startDnsFixture(): Promise<DnsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sipsec-dns-'));
  let nsd: NsdServer | undefined;
  let blackhole: DnsBlackhole | undefined;
  const stop = async (): Promise<void> => {
    await nsd?.stop();
    await blackhole?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const built = await buildZones(dir, TEST_ZONES);
    const trustAnchors = built.trustAnchors;
    if (trustAnchors.length !== 2) throw new Error(`expected 2 trust anchors, built ${trustAnchors.length}`);
    nsd = await startNsd(
      dir,
      [...built.zones, { origin: 'servfail.test.', file: join(dir, 'servfail.test.zone.missing') }],
      'test.',
    );
    blackhole = await startDnsBlackhole();
    const validator: ValidatorConfig = {
      trustAnchors,
      stubZones: [
        { name: 'test.', port: nsd.port },
        { name: 'timeout.test.', port: blackhole.port },
        { name: '2.0.192.in-addr.arpa.', port: nsd.port },
      ],
      // Without nodefault, Unbound answers these special-use zones itself (RFC 6761, RFC 6303).
      nodefaultZones: ['test.', '2.0.192.in-addr.arpa.'],
    };
    const stubLines = stubZoneLines(validator.stubZones);
    const serverLines = validatorServerLines(validator);
    const unboundConfigFile = join(dir, 'libunbound.conf');
    await writeLibunboundConfig(unboundConfigFile, validator);
    return { dir, nsd, blackhole, trustAnchors, serverLines, unboundConfigFile, stubLines, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
