/**
 * Zone files written, keyed and signed with ldns (ldns-keygen, ldns-signzone, ldns-key2ds): a lab
 * tool for demos and tests on one machine, never for a production zone (keys are made on the spot).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProgram } from './find-program.js';

const run = promisify(execFile);

/** How a zone is published: signed (optionally with expired signatures), unsigned, or not at all. */
export type ZoneSigning = 'signed' | 'expired' | 'unsigned';

/** One zone to build: its origin, its records (zone-file lines) and how it is signed. */
export interface ZoneSpec {
  /** Absolute origin with the trailing dot, e.g. `secure.test.`. */
  readonly origin: string;
  /** Zone-file lines after `$ORIGIN` and `$TTL`; the SOA and the apex NS are added. */
  readonly records: readonly string[];
  readonly signing: ZoneSigning;
  /** For signed zones: whether the parent publishes a DS (a secure delegation). Default true. */
  readonly dsInParent?: boolean;
  /**
   * Edits made to the signed file after signing (a record changed under its signature gives
   * `bogus`). Each must change the file, or the build fails.
   */
  readonly tamper?: readonly { readonly from: RegExp; readonly to: string }[];
  /** The apex NS (and SOA MNAME) host; default `ns.test.`. */
  readonly nameServer?: string;
}

/** A zone as written to disk: the file NSD serves (the `.signed` one for signed zones). */
export interface BuiltZone {
  readonly origin: string;
  readonly file: string;
  /** The DS of its key-signing key (`ldns-key2ds -n -2`), for signed zones. */
  readonly ds?: string;
}

export interface BuiltZones {
  readonly zones: readonly BuiltZone[];
  /** DS records of the signed zones whose parent is not among the built zones: the trust anchors. */
  readonly trustAnchors: readonly string[];
}

/** The SOA minimum used by every lab zone: the negative-answer TTL (RFC 2308 section 5). */
export const ZONE_NEGATIVE_TTL = 60;
/** The default TTL of every lab zone. */
export const ZONE_TTL = 300;

/**
 * Writes, keys and signs the zones in `dir` with ldns-keygen and ldns-signzone. Children are
 * signed first so that their DS can be put into their parent before the parent is signed; a DS is
 * added only when the parent is built here too and `dsInParent` is not false.
 */
export async function buildZones(dir: string, specs: readonly ZoneSpec[]): Promise<BuiltZones> {
  // Deepest first: a child's DS must exist before its parent is signed.
  const order = [...specs].sort((a, b) => labelCount(b.origin) - labelCount(a.origin));
  const extraRecords = new Map<string, string[]>();
  const built = new Map<string, BuiltZone>();
  for (const spec of order) {
    const records = [...spec.records, ...(extraRecords.get(spec.origin) ?? [])];
    const zone = await buildZone(dir, spec, records);
    built.set(spec.origin, zone);
    const parent = specs.find((s) => s.origin === parentOf(spec.origin));
    if (zone.ds !== undefined && parent !== undefined && spec.dsInParent !== false) {
      const list = extraRecords.get(parent.origin) ?? [];
      list.push(zone.ds);
      extraRecords.set(parent.origin, list);
    }
  }
  const trustAnchors: string[] = [];
  for (const spec of specs) {
    const zone = built.get(spec.origin);
    const hasParent = specs.some((s) => s.origin === parentOf(spec.origin));
    if (zone?.ds !== undefined && !hasParent) trustAnchors.push(zone.ds);
  }
  return { zones: specs.map((s) => built.get(s.origin)).filter((z): z is BuiltZone => z !== undefined), trustAnchors };
}

async function buildZone(dir: string, spec: ZoneSpec, records: readonly string[]): Promise<BuiltZone> {
  const base = spec.origin === '.' ? 'root' : spec.origin.slice(0, -1);
  const file = join(dir, `${base}.zone`);
  const text = [
    `$ORIGIN ${spec.origin}`,
    `$TTL ${ZONE_TTL}`,
    `@ IN SOA ${spec.nameServer ?? 'ns.test.'} hostmaster.test. 1 3600 900 604800 ${ZONE_NEGATIVE_TTL}`,
    `@ IN NS ${spec.nameServer ?? 'ns.test.'}`,
    ...records,
    '',
  ].join('\n');
  await writeFile(file, text);
  if (spec.signing === 'unsigned') return { origin: spec.origin, file };

  const ksk = await keygen(dir, spec.origin, true);
  const zsk = await keygen(dir, spec.origin, false);
  const signed = `${file}.signed`;
  const args = ['-f', signed];
  if (spec.signing === 'expired') {
    // Signatures valid for a day in 2020: long expired.
    args.push('-i', '20200101000000', '-e', '20200102000000');
  }
  args.push('-o', spec.origin, file, ksk, zsk);
  await run(findProgram('ldns-signzone', 'ldnsutils'), args, { cwd: dir });
  if (spec.tamper !== undefined) {
    let content = await readFile(signed, 'utf8');
    for (const edit of spec.tamper) {
      const next = content.replace(edit.from, edit.to);
      if (next === content) throw new Error(`tamper of ${spec.origin}: ${String(edit.from)} matched nothing`);
      content = next;
    }
    await writeFile(signed, content);
  }
  const { stdout } = await run(findProgram('ldns-key2ds', 'ldnsutils'), ['-n', '-2', `${ksk}.key`], { cwd: dir });
  return { origin: spec.origin, file: signed, ds: stdout.trim() };
}

async function keygen(dir: string, origin: string, ksk: boolean): Promise<string> {
  const args = ['-a', 'ECDSAP256SHA256', '-r', '/dev/urandom'];
  if (ksk) args.push('-k');
  args.push(origin);
  const { stdout } = await run(findProgram('ldns-keygen', 'ldnsutils'), args, { cwd: dir });
  return join(dir, stdout.trim());
}

function labelCount(origin: string): number {
  return origin === '.' ? 0 : origin.slice(0, -1).split('.').length;
}

function parentOf(origin: string): string {
  const dot = origin.indexOf('.');
  const rest = origin.slice(dot + 1);
  return rest === '' ? '.' : rest;
}
