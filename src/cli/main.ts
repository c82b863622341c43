#!/usr/bin/env node
import { runCli } from './run-cli.js';

// The only place that touches process: the exit code is set, never process.exit(), so output drains.
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
});
