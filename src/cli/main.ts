#!/usr/bin/env node
import { runCli } from './run-cli.js';

// The only place that touches process: the exit code is set, never process.exit(), so output drains.
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  // A status line only on a terminal: \r rewrites it, ESC[K clears what the longer text left.
  ...(process.stderr.isTTY ? { progress: (text: string | undefined) => void process.stderr.write(text === undefined ? '\r\x1b[K' : `\r\x1b[K${text}`) } : {}),
});
