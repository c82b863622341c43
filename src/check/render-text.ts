/** The terminal report: findings first by severity, then the DNS answers and each TLS target. */
import { terminalSafe } from '../terminal-text.js';
import { SEVERITY_ORDER, type Finding, type Severity } from './findings.js';
import type { CheckReport, ClientVerdict, TargetReport } from './evaluate.js';

export interface TextOptions {
  /** ANSI colours (a TTY without NO_COLOR). */
  readonly colour: boolean;
}

const COLOUR: Readonly<Record<Severity | 'grade-good' | 'grade-bad' | 'dim', string>> = {
  error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m', pass: '\x1b[32m', 'grade-good': '\x1b[1;32m', 'grade-bad': '\x1b[1;31m', dim: '\x1b[2m',
};
const RESET = '\x1b[0m';

export function renderText(report: CheckReport, options: TextOptions): string {
  const paint = (key: keyof typeof COLOUR, text: string): string => (options.colour ? `${COLOUR[key]}${text}${RESET}` : text);
  const lines: string[] = [];
  const c = report.counts;
  const gradeKey = report.grade.startsWith('A') || report.grade === 'B' ? 'grade-good' : 'grade-bad';
  lines.push(`sipsec check ${report.domain}: grade ${paint(gradeKey, report.grade)}${report.grade === '?' ? ' (could not be audited)' : ''} (${c.error} error, ${c.warning} warning, ${c.info} info, ${c.pass} pass) at ${report.checkedAt}`);
  if (report.cutShort !== undefined) lines.push(paint('error', `cut short: ${report.cutShort}`));
  lines.push('', 'Findings');
  for (const f of sortFindings(report.findings)) {
    lines.push(`  ${paint(f.severity, f.severity.toUpperCase().padEnd(7))} ${f.id}${f.target ? ` [${f.target}]` : ''}: ${f.title}`);
    lines.push(`          seen: ${f.seen}`);
    if (f.fix !== '' && f.severity !== 'pass') lines.push(`          fix:  ${f.fix}`);
    lines.push(paint('dim', `          ref:  ${f.ref}`));
  }
  lines.push('', 'DNS');
  for (const l of report.dns.lookups) {
    const detail = l.result === 'records' ? l.records.join(' | ') : l.result + (l.why ? `: ${l.why}` : '');
    lines.push(`  ${l.type.padEnd(5)} ${l.name}  ${stateWord(l.state, paint)}  ${detail}`);
  }
  for (const t of report.targets) lines.push('', ...renderTarget(t, paint));
  return `${lines.join('\n')}\n`;
}

function renderTarget(t: TargetReport, paint: (key: Severity | 'dim', text: string) => string): string[] {
  const lines = [`Target ${t.target}${t.plan.srvHost ? ` (SRV ${t.plan.srvHost})` : ''}, DNS chain ${stateWord(t.plan.chainState, paint)}`];
  if (t.plan.tlsa) lines.push(`  TLSA ${t.plan.tlsa.name} ${stateWord(t.plan.tlsa.state, paint)}: ${t.plan.tlsa.records.join(' | ') || 'none'}`);
  if (!t.tls.connected) {
    lines.push(`  TLS: ${paint('error', `failed: ${t.tls.error ?? '?'}`)}`);
    return lines;
  }
  const versions = Object.entries(t.tls.versions).map(([v, ok]) => `${v.replace('TLSv', '')} ${ok === null ? '?' : ok ? 'yes' : 'no'}`).join(', ');
  lines.push(`  TLS: ${t.tls.protocol ?? '?'} ${t.tls.cipher ?? ''}, key ${t.tls.key ?? '?'}, SNI ${t.tls.servername}; versions ${versions}`);
  lines.push(`  OCSP stapled: ${t.tls.ocspStapled ? 'yes' : 'no'}; client certificate requested: ${t.tls.clientCertificateRequested === null ? 'unknown' : t.tls.clientCertificateRequested ? 'yes' : 'no'}`);
  for (const entry of t.chain) lines.push(terminalSafe(`  chain[${entry.depth}] ${entry.subject}  <- ${entry.issuer}  (until ${entry.notAfter})`));
  if (t.identities.length > 0) lines.push(terminalSafe(`  RFC 5922 identities: ${t.identities.join(', ')}`));
  lines.push(`  DANE-aware client:    ${verdictWord(t.verdicts.daneAware, paint)}`);
  lines.push(`  RFC 5922-only client: ${verdictWord(t.verdicts.rfc5922Only, paint)}`);
  lines.push(`  CN-only client:       ${verdictWord(t.verdicts.cnOnly, paint)}`);
  for (const r of t.daneRecords) lines.push(`  TLSA ${r.record}: ${r.matches ? paint('pass', 'matches') : paint('error', `no: ${r.detail}`)}`);
  const sip = t.sip;
  // The server's reason phrase and headers are its own text: escaped before they reach a terminal.
  lines.push(terminalSafe(`  SIP OPTIONS: ${sip.answered ? `${sip.status ?? '?'} ${sip.reason ?? ''}${sip.server ? `, Server ${sip.server}` : ''}${sip.userAgent ? `, User-Agent ${sip.userAgent}` : ''}${sip.allow !== undefined ? `, Allow ${sip.allow}` : ''}${sip.supported !== undefined ? `, Supported ${sip.supported || '(empty)'}` : ''}` : `not answered (${sip.error ?? '?'})`}`));
  return lines;
}

function verdictWord(v: ClientVerdict, paint: (key: Severity, text: string) => string): string {
  return v.connects ? paint('pass', `connects (${v.method})`) : `${paint('error', 'refuses')}${v.reasons.length > 0 ? `: ${v.reasons.join('; ')}` : ''}`;
}

function stateWord(state: string, paint: (key: Severity, text: string) => string): string {
  return paint(state === 'secure' ? 'pass' : state === 'insecure' ? 'warning' : 'error', state);
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
}
