import { readFile } from 'node:fs/promises';
import { EXIT_USAGE, UsageError, type CliIo, type Command } from './command.js';
import { COMMANDS } from './commands.js';

const GLOBAL_OPTIONS = `options of every command:
  --json         machine-readable output: one JSON document per result (docs/CLI.md)
  --verbose, -v  more detail on stderr (raw transport and library text; 'options' also prints the request)
  --quiet, -q    nothing on stdout: the exit code alone answers
  --help, -h     the command's usage
exit: 0 success, 1 a finding (answered with a failure, not verified, invalid), 2 usage or input error,
      3 no answer (DNS failure, transport failure, timeout)`;

async function helpText(): Promise<string> {
  const commands = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => ({ name, command: await load() })));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map(({ name, command }) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `usage: sipsec <command> [options]\ncommands:\n${lines.join('\n')}\n${GLOBAL_OPTIONS}\n'sipsec <command> --help' shows one command's usage; 'sipsec --version' the version.\n`;
}

/** The version in package.json (dist/src/cli -> the package root), read only when asked for. */
async function versionText(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  return `${pkg.name ?? 'sipsec'} ${pkg.version ?? 'unknown'}\n`;
}

/** `--verbose` and `--quiet` are taken out wherever they stand; the rest goes to the command. */
function globalFlags(argv: readonly string[]): { rest: string[]; verbose: boolean; quiet: boolean } {
  const rest: string[] = [];
  let verbose = false;
  let quiet = false;
  for (const [i, arg] of argv.entries()) {
    // After `--` everything is a positional argument.
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--quiet' || arg === '-q') quiet = true;
    else rest.push(arg);
  }
  return { rest, verbose, quiet };
}

/** Runs one `sipsec` invocation and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(await helpText());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(await versionText());
    return 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr(`sipsec: unknown command '${name}'\n${await helpText()}`);
    return EXIT_USAGE;
  }
  const command: Command = await load();
  const { rest, verbose, quiet } = globalFlags(args);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n${GLOBAL_OPTIONS}\n`);
    return 0;
  }
  if (verbose && quiet) {
    io.stderr(`sipsec ${name}: --verbose and --quiet exclude each other\n`);
    return EXIT_USAGE;
  }
  const commandIo: CliIo = {
    stdout: quiet ? () => undefined : io.stdout,
    stderr: io.stderr,
    verbose,
    ...(io.progress !== undefined && !quiet ? { progress: io.progress } : {}),
  };
  try {
    return await command.run(rest, commandIo);
  } catch (err) {
    io.progress?.(undefined);
    if (err instanceof UsageError) {
      io.stderr(`sipsec ${name}: ${err.message}\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`sipsec ${name}: internal error: ${detail}\n`);
    return EXIT_USAGE;
  }
}
