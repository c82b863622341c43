import { EXIT_USAGE, UsageError, type CliIo } from './command.js';
import { COMMANDS } from './commands.js';

function helpText(): string {
  const names = Object.keys(COMMANDS).join(', ');
  return `usage: sipsec <command> [options]\ncommands: ${names}\n'sipsec <command> --help' shows one command's usage.\n`;
}

/** Runs one `sipsec` invocation and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(helpText());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr(`sipsec: unknown command '${name}'\n${helpText()}`);
    return EXIT_USAGE;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sipsec ${name}: ${err.message}\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`sipsec ${name}: internal error: ${detail}\n`);
    return EXIT_USAGE;
  }
}
