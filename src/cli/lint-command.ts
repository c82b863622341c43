import { inspectMessage } from '../sip/parse-message.js';
import type { SipFault } from '../sip/errors.js';
import { EXIT_FINDINGS, EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { readInputFile } from './input-file.js';

const USAGE = `usage: sipsec lint [--datagram | --stream] FILE...
  Checks each file as one SIP message and prints one JSON line per file:
  {"file","valid","kind","method"?,"status"?,"errors":[...],"response"?}
  --datagram  frame as a UDP datagram, RFC 3261 section 18.3 (default)
  --stream    frame as a stream message: Content-Length required and exact
exit: 0 every file valid, 1 any invalid, 2 usage error`;

interface LintLine {
  file: string;
  valid: boolean;
  kind: 'request' | 'response' | null;
  method?: string;
  status?: number;
  errors: Array<{ code: string; header?: string; detail: string }>;
  response?: number;
  responseReason?: string;
}

function toError(f: SipFault): LintLine['errors'][number] {
  return f.header === undefined ? { code: f.code, detail: f.detail } : { code: f.code, header: f.header, detail: f.detail };
}

export const lintCommand: Command = {
  name: 'lint',
  summary: 'check SIP messages in files and say what a server would answer',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: [...argv],
      allowPositionals: true,
      options: { stream: { type: 'boolean' }, datagram: { type: 'boolean' } },
    });
    if (values.stream === true && values.datagram === true) throw new UsageError('--stream and --datagram exclude each other');
    if (positionals.length === 0) throw new UsageError('no FILE given');
    const framing = values.stream === true ? 'stream' : 'datagram';
    let allValid = true;
    for (const file of positionals) {
      const bytes = await readInputFile(file);
      const result = inspectMessage(bytes, { framing });
      const message = result.message;
      const line: LintLine = { file, valid: result.ok, kind: result.ok ? result.message.kind : (result.kind ?? null), errors: [] };
      if (message?.kind === 'request') line.method = message.method;
      if (message?.kind === 'response') line.status = message.status;
      if (!result.ok) {
        allValid = false;
        line.errors = result.faults.map(toError);
        if (result.response !== undefined) {
          line.response = result.response.status;
          line.responseReason = result.response.reason;
        }
      }
      io.stdout(`${JSON.stringify(line)}\n`);
    }
    return allValid ? EXIT_OK : EXIT_FINDINGS;
  },
};
