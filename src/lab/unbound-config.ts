/**
 * The Unbound-syntax config that makes a validator (libunbound in process, or an Unbound daemon)
 * reach zones served on loopback and trust their keys: a lab tool for demos and tests on one
 * machine. `sipsec resolve --dns-config FILE` and `sipsec options --dns-config FILE` read it.
 */
import { writeFile } from 'node:fs/promises';

/** A zone whose authoritative server is asked directly (a `stub-zone:` clause). */
export interface StubZone {
  /** Absolute name with the trailing dot, e.g. `sipsec.test.`. */
  readonly name: string;
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly address?: string;
}

export interface ValidatorConfig {
  /** DS (or DNSKEY) records, one a string, as `ldns-key2ds -n -2` prints them. */
  readonly trustAnchors: readonly string[];
  readonly stubZones: readonly StubZone[];
  /**
   * Special-use zones Unbound answers itself unless told `nodefault` (RFC 6761 `test.`, RFC 6303
   * reverse zones): without this line it answers NXDOMAIN for every name under them.
   */
  readonly nodefaultZones: readonly string[];
}

/** The `server:` clause body: local zones and trust anchors (indented, without `server:`). */
export function validatorServerLines(config: ValidatorConfig): string[] {
  return [
    ...config.nodefaultZones.map((zone) => `  local-zone: "${zone}" nodefault`),
    ...config.trustAnchors.map((ta) => `  trust-anchor: "${ta}"`),
  ];
}

/** The `stub-zone:` clauses. */
export function stubZoneLines(stubs: readonly StubZone[]): string[] {
  return stubs.flatMap((s) => ['stub-zone:', `  name: "${s.name}"`, `  stub-addr: ${s.address ?? '127.0.0.1'}@${s.port}`]);
}

/** The whole config for libunbound: it may ask loopback servers (`do-not-query-localhost: no`). */
export function libunboundConfigText(config: ValidatorConfig): string {
  return ['server:', '  do-not-query-localhost: no', ...validatorServerLines(config), ...stubZoneLines(config.stubZones), ''].join('\n');
}

export async function writeLibunboundConfig(file: string, config: ValidatorConfig): Promise<void> {
  await writeFile(file, libunboundConfigText(config));
}
