import type { Command } from './command.js';

/**
 * Every `sipsec` command, loaded on demand so that `sipsec lint` does not pay for TLS or DNS.
 * One line per command, sorted by name.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  cert: async () => (await import('./cert-verify-command.js')).certCommand,
  check: async () => (await import('./check-command.js')).checkCommand,
  dane: async () => (await import('./dane-verify-command.js')).daneCommand,
  lint: async () => (await import('./lint-command.js')).lintCommand,
  options: async () => (await import('./options-command.js')).optionsCommand,
  proxy: async () => (await import('./proxy-command.js')).proxyCommand,
  resolve: async () => (await import('./resolve-command.js')).resolveCommand,
  tlsa: async () => (await import('./tlsa-generate-command.js')).tlsaCommand,
  user: async () => (await import('./user-command.js')).userCommand,
};
