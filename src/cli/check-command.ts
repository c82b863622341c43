import { closeSync, openSync, writeSync } from 'node:fs';
import { runBatch, formatProgress, formatSummary } from '../check/batch.js';
import type { CheckReport } from '../check/evaluate.js';
import { renderHtml } from '../check/render-html.js';
import { renderText } from '../check/render-text.js';
import { checkDomain, CheckInputError, domainOf, type CheckOptions } from '../check/run-check.js';
import { CHECK_LIMITS } from '../limits.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, parseCommandArgs, UsageError, type Command } from './command.js';
import { jsonDocument } from './json-output.js';
import { createResolverFor, DNS_OPTIONS } from './dns-options.js';
import { readInputFile } from './input-file.js';
import { parseIntegerOption, readTrustStore } from './tls-command-input.js';

const USAGE = `usage: sipsec check DOMAIN|URI [--json] [--html FILE] [--ca FILE]... [--timeout MS]
                    [--dns-config FILE | --backend NAME --server ADDR] [--expiry-days N]
       sipsec check --file DOMAINS.txt [--concurrency N] [--jsonl OUT] [same options]
  Audits a SIP domain: NAPTR/SRV/A/AAAA/TLSA with their DNSSEC state, every TLS target (versions,
  chain, expiry, OCSP stapling, client certificate request), what a DANE-aware, an RFC 5922-only and
  a CN-only client would do, and an OPTIONS over each verified hop. Findings, grade: docs/CHECK.md.
  --json             the report as one line of JSON (schema sipsec.check/1, docs/CHECK.md)
  --html FILE        also write a self-contained HTML report to FILE
  --ca FILE          trusted roots (PEM); default: the roots Node ships
  --timeout MS       deadline of one domain (default ${CHECK_LIMITS.domainTimeoutMs})
  --expiry-days N    warn when a certificate expires within N days (default ${CHECK_LIMITS.expiryWarningDays})
  --dns-config, --backend, --server   as for 'sipsec resolve'
  --file FILE        one domain or URI a line (# comments); batch mode
  --concurrency N    domains in flight in batch mode (default ${CHECK_LIMITS.concurrency})
  --jsonl OUT        batch mode: one JSON report a line to OUT (default: standard output)
exit: 0 every domain passes or has warnings only, 1 any error finding, 2 usage error`;

export const checkCommand: Command = {
  name: 'check',
  summary: 'audit a SIP domain (DNS, DNSSEC, TLS, DANE, SIP) as text, JSON or HTML; or a file of domains',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        html: { type: 'string' },
        ca: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        'expiry-days': { type: 'string' },
        file: { type: 'string' },
        concurrency: { type: 'string' },
        jsonl: { type: 'string' },
        ...DNS_OPTIONS,
      },
    });
    const batch = values.file !== undefined;
    if (batch && positionals.length > 0) throw new UsageError('give a DOMAIN or --file, not both');
    if (!batch && positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no domain given' : 'one domain only (use --file for many)');
    if (!batch && (values.concurrency !== undefined || values.jsonl !== undefined)) throw new UsageError('--concurrency and --jsonl go with --file');
    if (batch && (values.html !== undefined || values.json === true)) throw new UsageError('--html and --json are for one domain; batch mode writes JSON lines');
    const timeoutMs = parseIntegerOption('--timeout', values.timeout, 1, 3_600_000) ?? CHECK_LIMITS.domainTimeoutMs;
    const expiryWarningDays = parseIntegerOption('--expiry-days', values['expiry-days'], 0, 3650) ?? CHECK_LIMITS.expiryWarningDays;
    const concurrency = parseIntegerOption('--concurrency', values.concurrency, 1, CHECK_LIMITS.maxConcurrency) ?? CHECK_LIMITS.concurrency;
    const domains = batch ? await readDomains(values.file ?? '') : [toDomain(positionals[0] ?? '')];
    const trustStore = await readTrustStore(values.ca);
    // Opened before anything is probed, so that an unwritable path fails at once (exit 2).
    const html = values.html === undefined ? undefined : openOutput(values.html, '--html');
    const jsonl = values.jsonl === undefined ? undefined : openOutput(values.jsonl, '--jsonl');
    try {
      return await runChecks();
    } catch (err) {
      if (!(err instanceof OutputError)) throw err;
      io.stderr(`sipsec check: ${err.message}\n`);
      return EXIT_USAGE;
    } finally {
      for (const out of [html, jsonl]) if (out !== undefined) closeSync(out.fd);
    }

    async function runChecks(): Promise<number> {
      const resolver = await createResolverFor(values);
      // Each probe gives up within the domain's deadline, so that the deadline is what cuts a domain.
      const base: Omit<CheckOptions, 'signal'> = {
        resolver, trustStore, timeoutMs, expiryWarningDays,
        handshakeTimeoutMs: Math.min(CHECK_LIMITS.handshakeTimeoutMs, timeoutMs),
        optionsTimeoutMs: Math.min(CHECK_LIMITS.optionsTimeoutMs, timeoutMs),
      };
      try {
        if (!batch) {
          const report = await checkDomain(domains[0] as string, base);
          if (html !== undefined) writeOutput(html, renderHtml(report));
          io.stdout(values.json === true ? jsonLine(report) : renderText(report, { colour: useColour(process.stdout) }));
          return report.counts.error > 0 ? EXIT_FINDINGS : EXIT_OK;
        }
        return await runBatchMode(domains, base, concurrency, jsonl, io);
      } finally {
        await resolver.close();
      }
    }
  },
};

/** One report as the one JSON style of every command (docs/CLI.md), schema `sipsec.check/1`. */
function jsonLine(report: CheckReport): string {
  return jsonDocument('check', report);
}

/** A file the command writes, opened before the check. */
interface Output {
  readonly fd: number;
  readonly file: string;
  readonly option: string;
}

/** A write to an output file failed during the check: reported in one line, never as a stack trace. */
class OutputError extends Error {}

function errnoOf(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : err instanceof Error ? err.message : String(err);
}

function openOutput(file: string, option: string): Output {
  try {
    return { fd: openSync(file, 'w'), file, option };
  } catch (err) {
    throw new UsageError(`${option}: cannot write ${file}: ${errnoOf(err)}`, { cause: err });
  }
}

/**
 * Synchronous on purpose: asynchronous file writes run on libuv's threadpool, which libunbound's
 * blocking lookups may hold for seconds; a report must be written when it is ready, and Ctrl-C
 * must keep what was written without waiting for those lookups.
 */
function writeOutput(out: Output, text: string): void {
  try {
    writeSync(out.fd, text);
  } catch (err) {
    throw new OutputError(`${out.option}: cannot write ${out.file}: ${errnoOf(err)}`, { cause: err });
  }
}

function toDomain(input: string): string {
  try {
    return domainOf(input);
  } catch (err) {
    if (err instanceof CheckInputError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

async function readDomains(file: string): Promise<string[]> {
  const text = (await readInputFile(file, '--file')).toString('utf8');
  const domains: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    try {
      domains.push(domainOf(line));
    } catch (err) {
      if (err instanceof CheckInputError) throw new UsageError(`--file ${file} line ${i + 1}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  if (domains.length === 0) throw new UsageError(`--file ${file}: no domains`);
  return domains;
}

async function runBatchMode(domains: readonly string[], base: Omit<CheckOptions, 'signal'>, concurrency: number, out: Output | undefined, io: Parameters<Command['run']>[1]): Promise<number> {
  const controller = new AbortController();
  // Ctrl-C: no new domain starts, running ones are cut short and written, then the summary.
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const tty = process.stderr.isTTY;
  const write = (report: CheckReport): void => {
    const line = jsonLine(report);
    if (out === undefined) io.stdout(line);
    else writeOutput(out, line);
  };
  try {
    const summary = await runBatch(domains, {
      concurrency,
      signal: controller.signal,
      check: (domain, signal) => checkDomain(domain, { ...base, signal }),
      onReport: write,
      ...(tty ? { onProgress: (p) => process.stderr.write(`\r${formatProgress(p)}`) } : {}),
    });
    if (tty) process.stderr.write('\n');
    io.stderr(formatSummary(summary));
    return summary.errors > 0 || summary.interrupted ? EXIT_FINDINGS : EXIT_OK;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function useColour(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY && process.env['NO_COLOR'] === undefined;
}
