import { loadProxyConfig, ProxyConfigError, redact, renderIssue, type ProxyConfig } from '../proxy/config.js';
import { runProxy as runProxyProcess, type ProxyRunIo } from '../proxy/run-proxy.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, parseCommandArgs, UsageError, type CliIo, type Command } from './command.js';
import { jsonDocument } from './json-output.js';

const USAGE = `usage: sipsec proxy --config FILE
       sipsec proxy --check-config FILE [--json]
  Runs the registrar and stateful proxy of the SIP domains that FILE configures (docs/PROXY.md),
  or only checks FILE: its keys, and every file it names (certificates against their domains,
  keys against their certificates, CA files, the users file).
  --config FILE        load FILE and run the proxy until SIGINT or SIGTERM
  --check-config FILE  check FILE and exit; each fault on its own line, FILE:LINE: key.path: message
  --json               with --check-config: one JSON document (schema sipsec.proxy-config/1)
exit: 0 valid (--check-config) or stopped on a signal, 1 the proxy could not start or stopped on an
      error, 2 usage error or invalid configuration`;

/** The function that runs a loaded configuration (the real one, or a recorder in tests). */
export type ProxyRunner = (config: ProxyConfig, io: ProxyRunIo) => Promise<number>;

function printIssues(error: ProxyConfigError, io: CliIo): void {
  for (const issue of error.issues) io.stderr(`${renderIssue(issue)}\n`);
}

function summary(config: ProxyConfig): string {
  const listeners = config.listeners.map((l) => `${l.url} as ${l.advertisedHost.includes(':') ? `[${l.advertisedHost}]` : l.advertisedHost}:${l.advertisedPort}`);
  const location = config.location.kind === 'sqlite' ? `sqlite:${config.location.path}` : redact(new URL(config.location.url));
  return [
    `${config.file}: valid`,
    `domains ${config.domains.map((d) => d.name).join(', ')}`,
    `listen ${listeners.join(', ')}`,
    `${config.users.directory.size} user${config.users.directory.size === 1 ? '' : 's'}`,
    `location ${location}`,
    `nonce key ${config.auth.secretFile === undefined ? 'random per process' : `from ${config.auth.secretFile}`}`,
  ].join('; ');
}

function jsonSummary(config: ProxyConfig): object {
  return {
    valid: true,
    file: config.file,
    domains: config.domains.map((d) => ({ name: d.name, certificate: d.certificateFile, key: d.keyFile, identities: d.identities, notAfter: d.chain[0]?.notAfter.toISOString() ?? null })),
    listeners: config.listeners.map((l) => ({ url: l.url, transport: l.transport, address: l.address, port: l.port, path: l.path ?? null, advertisedHost: l.advertisedHost, advertisedPort: l.advertisedPort, advertisedFrom: l.advertisedFrom })),
    trust: { system: config.trust.system, ca: config.trust.ca.map((c) => ({ file: c.file, certificates: c.certificates.length })) },
    dns: { unbound: config.dns.unbound ?? null },
    users: { file: config.users.file ?? null, count: config.users.directory.size },
    auth: { algorithms: config.auth.algorithms, secretFile: config.auth.secretFile ?? null },
    location: config.location.kind === 'sqlite' ? { kind: 'sqlite', path: config.location.path } : { kind: 'redis', url: redact(new URL(config.location.url)), host: config.location.host, port: config.location.port, db: config.location.db, tls: config.location.tls },
    log: config.log,
    warnings: config.warnings,
    notes: config.notes,
  };
}

/** The loaded config, or every fault printed (and as JSON with `json`) and undefined. */
async function loadOrReport(file: string, io: CliIo, terminal: boolean, json = false): Promise<ProxyConfig | undefined> {
  try {
    return await loadProxyConfig(file, { terminal });
  } catch (err) {
    if (!(err instanceof ProxyConfigError)) throw err;
    printIssues(err, io);
    if (json) io.stdout(jsonDocument('proxy-config', { valid: false, file, errors: err.issues }));
    return undefined;
  }
}

async function checkConfig(file: string, json: boolean, io: CliIo, terminal: boolean): Promise<number> {
  const config = await loadOrReport(file, io, terminal, json);
  if (config === undefined) return EXIT_USAGE;
  for (const warning of config.warnings) io.stderr(`warning: ${warning}\n`);
  if (io.verbose === true) for (const note of config.notes) io.stderr(`note: ${note}\n`);
  io.stdout(json ? jsonDocument('proxy-config', jsonSummary(config)) : `${summary(config)}\n`);
  return EXIT_OK;
}

/** Runs the proxy with an abort signal raised by SIGINT and SIGTERM, removed once it stops. */
async function run(file: string, io: CliIo, runner: ProxyRunner, terminal: boolean): Promise<number> {
  const config = await loadOrReport(file, io, terminal);
  if (config === undefined) return EXIT_USAGE;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runner(config, { stdout: io.stdout, stderr: io.stderr, signal: stop.signal });
  } catch (err) {
    // A failed start (a port in use, a backend away) is the proxy's finding, not a usage error.
    io.stderr(`sipsec proxy: ${err instanceof Error ? (io.verbose === true ? (err.stack ?? err.message) : err.message) : String(err)}\n`);
    return EXIT_FINDINGS;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function makeProxyCommand(runner: ProxyRunner): Command {
  return {
    name: 'proxy',
    summary: 'run the registrar and stateful proxy of SIP domains, or check its configuration',
    usage: USAGE,
    async run(argv: readonly string[], io: CliIo): Promise<number> {
      const { values, positionals } = parseCommandArgs({
        args: [...argv],
        allowPositionals: true,
        options: { config: { type: 'string' }, 'check-config': { type: 'string' }, json: { type: 'boolean' } },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected '${positionals.join(' ')}': name the file with --config or --check-config`);
      const config = values.config;
      const check = values['check-config'];
      if (config !== undefined && check !== undefined) throw new UsageError('--config and --check-config exclude each other');
      // The log's default format is text on a terminal, JSON elsewhere (docs/PROXY.md, log.format).
      const terminal = process.stdout.isTTY === true;
      if (check !== undefined) return checkConfig(check, values.json === true, io, terminal);
      if (config === undefined) throw new UsageError('give --config FILE to run, or --check-config FILE to check');
      if (values.json === true) throw new UsageError('--json goes with --check-config (the running proxy logs JSON lines: log.format)');
      return run(config, io, runner, terminal);
    },
  };
}

export const proxyCommand = makeProxyCommand(runProxyProcess);
