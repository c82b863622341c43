import type { Command } from './command.js';

/**
 * Every `sipsec` command, loaded on demand so that `sipsec lint` does not pay for TLS or DNS.
 * One line per command, sorted by name.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  lint: async () => (await import('./lint-command.js')).lintCommand,
  resolve: async () => (await import('./resolve-command.js')).resolveCommand,
};
