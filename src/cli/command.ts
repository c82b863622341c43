import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a command may touch: its arguments, two output streams, and the global flags. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** `--verbose`: more detail (raw transport and library text, the request sent). */
  readonly verbose?: boolean;
  /**
   * A status line on a terminal, rewritten in place: only set when stderr is a TTY (main.ts), so
   * that pipes and logs never get it. `undefined` clears the line.
   */
  readonly progress?: (text: string | undefined) => void;
}

/**
 * Exit codes shared by every command (docs/CLI.md "Exit codes"), as sipsak separates them:
 * 0 success, 1 a finding (answered with a failure, not verified, invalid), 2 usage or input error,
 * 3 no answer (DNS failure, transport failure, timeout).
 */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
export const EXIT_NO_ANSWER = 3;

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** A mistake in how a command was called; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  readonly code = 'CLI_ERR_USAGE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** node:util parseArgs (with `args` given by the caller), its errors turned into UsageError. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
