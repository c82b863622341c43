import { inspectMessage } from '../sip/parse-message.js';
import type { SipFault } from '../sip/errors.js';
import { EXIT_FINDINGS, EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { jsonDocument } from './json-output.js';
import { InputReader } from './tls-command-input.js';

const USAGE = `usage: sipsec lint [--datagram | --stream] [--json] FILE...   (- for standard input)
  Checks each file as one SIP message: one line per file saying whether it is valid, each fault,
  and the response a server sends to it (a response in the file gets none).
  --datagram  frame as a UDP datagram, RFC 3261 section 18.3 (default)
  --stream    frame as a stream message: Content-Length required and exact
  --json      one JSON document per file (schema sipsec.lint/1, docs/CLI.md):
              {"schema","file","valid","kind","method"?,"status"?,"errors":[...],"response"?,"responseReason"?,"notes"?}
exit: 0 every file valid, 1 any invalid, 2 usage error (or a file that cannot be read)`;

interface LintLine {
  file: string;
  valid: boolean;
  kind: 'request' | 'response' | null;
  method?: string;
  status?: number;
  errors: Array<{ code: string; header?: string; detail: string }>;
  response?: number;
  responseReason?: string;
  /** What explains the faults without being one: `bare-lf-line-ends`. */
  notes?: string[];
}

function toError(f: SipFault): LintLine['errors'][number] {
  return f.header === undefined ? { code: f.code, detail: f.detail } : { code: f.code, header: f.header, detail: f.detail };
}

export const lintCommand: Command = {
  name: 'lint',
  summary: 'check SIP messages in files: valid or not, each fault, and what a server would answer',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: [...argv],
      allowPositionals: true,
      options: { stream: { type: 'boolean' }, datagram: { type: 'boolean' }, json: { type: 'boolean' } },
    });
    if (values.stream === true && values.datagram === true) throw new UsageError('--stream and --datagram exclude each other');
    if (positionals.length === 0) throw new UsageError('no FILE given');
    const framing = values.stream === true ? 'stream' : 'datagram';
    let allValid = true;
    const input = new InputReader();
    for (const file of positionals) {
      const bytes = await input.read(file, 'FILE');
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
        // Editors and shell here-documents write LF alone; the parser then sees no header end.
        if (bareLineFeeds(bytes) > 0) line.notes = ['bare-lf-line-ends'];
      }
      io.stdout(values.json === true ? jsonDocument('lint', line) : textLine(line));
    }
    return allValid ? EXIT_OK : EXIT_FINDINGS;
  },
};

/** `FILE: valid request INVITE` or `FILE: INVALID request INVITE -> 400 Bad Request` and one indented line per fault. */
function textLine(line: LintLine): string {
  const what = [line.kind ?? 'unknown kind', line.method ?? (line.status === undefined ? undefined : String(line.status))].filter((w) => w !== undefined).join(' ');
  if (line.valid) return `${line.file}: valid ${what}\n`;
  const answer = line.response === undefined ? (line.kind === 'response' ? ' -> dropped (a response gets no response)' : ' -> dropped') : ` -> ${line.response} ${line.responseReason ?? ''}`.trimEnd();
  const faults = line.errors.map((e) => `  ${e.code}${e.header === undefined ? '' : ` (${e.header})`}: ${e.detail}\n`);
  const notes = (line.notes ?? []).map((n) => `  note: ${NOTE_TEXT[n] ?? n}\n`);
  return `${line.file}: INVALID ${what}${answer}\n${faults.join('')}${notes.join('')}`;
}

const NOTE_TEXT: Readonly<Record<string, string>> = {
  'bare-lf-line-ends': 'bare-lf-line-ends: lines end with LF alone; SIP needs CRLF (RFC 3261 section 7)',
};

/** Line feeds without a carriage return before them, in the header section (up to the first empty line). */
function bareLineFeeds(bytes: Uint8Array): number {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const crlf = i > 0 && bytes[i - 1] === 0x0d;
    if (!crlf) bare++;
    // An empty line ends the header section: LF LF, or CR LF CR LF.
    if (bytes[i + 1] === 0x0a || (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a)) break;
  }
  return bare;
}
