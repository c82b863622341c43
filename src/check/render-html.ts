/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, no external asset) with
 * the summary, the findings, the DNS chain and each certificate chain drawn as SVG. Readable on a
 * phone (fluid layout, scalable pictures) and printable (print media rules).
 */
import { sortFindings } from './render-text.js';
import type { CheckReport, TargetReport } from './evaluate.js';
import type { DnssecState } from '../dns/dnssec-state.js';

export function renderHtml(report: CheckReport): string {
  const c = report.counts;
  const findings = sortFindings(report.findings).map((f) => `
    <li class="finding ${f.severity}" data-id="${esc(f.id)}">
      <div class="head"><span class="sev">${esc(f.severity)}</span> <code>${esc(f.id)}</code>${f.target ? ` <span class="target">${esc(f.target)}</span>` : ''}</div>
      <div class="title">${esc(f.title)}</div>
      <div class="seen"><b>Seen:</b> ${esc(f.seen)}</div>
      ${f.fix !== '' && f.severity !== 'pass' ? `<div class="fix"><b>Fix:</b> ${esc(f.fix)}</div>` : ''}
      <div class="ref">${esc(f.ref)}</div>
    </li>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sipsec check ${esc(report.domain)}: ${esc(report.grade)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <div class="grade grade-${gradeClass(report.grade)}" id="grade">${esc(report.grade)}</div>
  <div>
    <h1>${esc(report.domain)}</h1>
    <p class="counts"><span class="error">${c.error} error</span> · <span class="warning">${c.warning} warning</span> · <span class="info">${c.info} info</span> · <span class="pass">${c.pass} pass</span></p>
    <p class="meta">Checked ${esc(report.checkedAt)} by sipsec check (report schema ${esc(report.schema)})${report.cutShort ? ` · <b>cut short: ${esc(report.cutShort)}</b>` : ''}</p>
  </div>
</header>
<main>
<section>
<h2>Findings</h2>
<ul class="findings" id="findings">${findings}</ul>
</section>
<section>
<h2>DNS chain</h2>
<p class="legend"><span class="k secure">secure</span> <span class="k insecure">insecure</span> <span class="k bogus">bogus</span> <span class="k indeterminate">indeterminate</span></p>
<figure class="picture" id="dns-chain">${dnsChainSvg(report)}</figure>
${dnsTable(report)}
</section>
${report.targets.map((t, i) => targetSection(t, i, report.checkedAt)).join('\n')}
</main>
<footer><p>Grade rules, finding ids and the JSON schema: docs/CHECK.md of sipsec.</p></footer>
</body>
</html>
`;
}

const CSS = `
:root { --error:#b3261e; --warning:#8a5a00; --info:#1f5f8b; --pass:#2e7d32; --line:#c8ccd2; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a; background: #fff; }
header { display: flex; gap: 1rem; align-items: center; padding: 1rem 1.25rem; background: var(--bg); border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 1.5rem; word-break: break-all; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
main { padding: 0 1.25rem 1rem; max-width: 72rem; margin: 0 auto; }
.grade { font-size: 2.2rem; font-weight: 700; min-width: 4.2rem; height: 4.2rem; border-radius: .6rem; display: flex; align-items: center; justify-content: center; color: #fff; }
.grade-good { background: var(--pass); } .grade-mid { background: var(--warning); } .grade-bad { background: var(--error); }
.counts { margin: .2rem 0; } .meta { margin: 0; color: #555; font-size: .85rem; }
.error { color: var(--error); } .warning { color: var(--warning); } .info { color: var(--info); } .pass { color: var(--pass); }
.findings { list-style: none; padding: 0; margin: 0; }
.finding { border-left: .35rem solid var(--line); background: var(--bg); margin: .5rem 0; padding: .5rem .75rem; border-radius: .25rem; break-inside: avoid; }
.finding.error { border-color: var(--error); } .finding.warning { border-color: var(--warning); } .finding.info { border-color: var(--info); } .finding.pass { border-color: var(--pass); }
.finding .sev { text-transform: uppercase; font-weight: 700; font-size: .8rem; }
.finding.error .sev { color: var(--error); } .finding.warning .sev { color: var(--warning); } .finding.info .sev { color: var(--info); } .finding.pass .sev { color: var(--pass); }
.finding .title { font-weight: 600; } .finding .seen, .finding .fix { word-break: break-word; } .finding .ref { color: #555; font-size: .85rem; }
.target { font-family: ui-monospace, monospace; font-size: .85rem; color: #555; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
figure.picture { margin: .5rem 0; overflow-x: auto; }
figure.picture svg { width: 100%; height: auto; min-width: 18rem; }
figure.cert-chain svg { max-width: 34rem; min-width: 24rem; }
/* On a narrow screen the pictures keep a legible size and scroll inside their own frame. */
#dns-chain svg { min-width: 40rem; }
/* Hex digests and long names must wrap, or a phone scrolls sideways. */
td, .verdict, .finding, p { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; table-layout: fixed; }
th:nth-child(1), td:nth-child(1) { width: 4rem; } th:nth-child(3), td:nth-child(3) { width: 7rem; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; word-break: break-word; }
.legend .k { display: inline-block; padding: 0 .4rem; border-radius: .2rem; margin-right: .3rem; font-size: .85rem; }
.k.secure { background: #d8efd9; } .k.insecure { background: #fbeccc; } .k.bogus { background: #f6d3d0; } .k.indeterminate { background: #e3e3e3; }
.verdicts { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .5rem; }
.verdict { border: 1px solid var(--line); border-radius: .3rem; padding: .5rem; }
footer { color: #555; font-size: .85rem; padding: 0 1.25rem 1rem; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  header { flex-direction: column; align-items: flex-start; }
  main { padding: 0 .75rem 1rem; }
  th:nth-child(4), td:nth-child(4) { display: none; }
}
@media print {
  body { font-size: 11pt; color: #000; }
  header { background: none; }
  .finding { background: none; }
  figure.picture { overflow: visible; }
  #dns-chain svg, figure.cert-chain svg { min-width: 0; }
  section { break-inside: avoid-page; }
  a { color: inherit; text-decoration: none; }
}
`;

function gradeClass(grade: string): string {
  return grade.startsWith('A') ? 'good' : grade === 'B' || grade === '?' ? 'mid' : 'bad';
}

const FILL: Readonly<Record<DnssecState | 'none', string>> = { secure: '#d8efd9', insecure: '#fbeccc', bogus: '#f6d3d0', indeterminate: '#e3e3e3', none: '#eef0f3' };

interface Node {
  readonly id: string;
  readonly column: number;
  readonly lines: readonly string[];
  readonly state: DnssecState | 'none';
}

/** Domain -> NAPTR/SRV services -> hosts with addresses -> TLSA, coloured by DNSSEC state. */
function dnsChainSvg(report: CheckReport): string {
  const { dns } = report;
  const stateOf = (name: string, type: string): DnssecState | 'none' => dns.lookups.find((l) => l.name === name && l.type === type)?.state ?? 'none';
  const nodes: Node[] = [];
  const edges: [string, string][] = [];
  const naptr = dns.lookups.find((l) => l.type === 'NAPTR' && l.name === dns.domain);
  nodes.push({ id: 'domain', column: 0, lines: [dns.domain, `NAPTR: ${naptr?.result ?? 'not asked'}`], state: naptr?.state ?? 'none' });
  for (const s of dns.services) {
    const id = `svc ${s.service} ${s.name}`;
    if (nodes.some((n) => n.id === id)) continue;
    nodes.push({ id, column: 1, lines: [`${s.service.toUpperCase()} via ${s.via}`, s.name], state: s.via === 'address' ? stateOf(s.name, 'A') : stateOf(s.name, 'SRV') });
    edges.push(['domain', id]);
  }
  for (const t of dns.tlsTargets) {
    const hostId = `host ${t.host} ${t.port}`;
    const existing = nodes.findIndex((n) => n.id === hostId);
    if (existing < 0) {
      nodes.push({ id: hostId, column: 2, lines: [`${t.host}:${t.port}`, t.address], state: t.chainState });
      const svc = dns.services.find((s) => s.service === 'tls' && (s.via === 'address' || dns.lookups.some((l) => l.name === s.name && l.records.some((r) => r.endsWith(` ${t.port} ${t.host}.`)))));
      if (svc) edges.push([`svc ${svc.service} ${svc.name}`, hostId]);
      if (t.tlsa) {
        const tlsaId = `tlsa ${t.tlsa.name}`;
        nodes.push({ id: tlsaId, column: 3, lines: [t.tlsa.name, t.tlsa.records.length > 0 ? `${t.tlsa.records.length} TLSA record(s)` : 'no TLSA'], state: t.tlsa.state });
        edges.push([hostId, tlsaId]);
      }
    } else {
      const node = nodes[existing] as Node;
      nodes[existing] = { ...node, lines: [...node.lines, t.address] };
    }
  }
  const colWidth = 230;
  const boxWidth = 200;
  const rowGap = 12;
  const lineHeight = 16;
  const heightOf = (n: Node): number => 12 + n.lines.length * lineHeight;
  const pos = new Map<string, { x: number; y: number; h: number }>();
  const columnY = [10, 10, 10, 10];
  for (const n of nodes) {
    const h = heightOf(n);
    const y = columnY[n.column] ?? 10;
    pos.set(n.id, { x: 10 + n.column * colWidth, y, h });
    columnY[n.column] = y + h + rowGap;
  }
  const height = Math.max(...columnY, 60) + 4;
  const width = 10 + 4 * colWidth - (colWidth - boxWidth) + 10;
  const lines = edges.map(([from, to]) => {
    const a = pos.get(from);
    const b = pos.get(to);
    if (!a || !b) return '';
    return `<path d="M${a.x + boxWidth} ${a.y + a.h / 2} C${a.x + boxWidth + 15} ${a.y + a.h / 2} ${b.x - 15} ${b.y + b.h / 2} ${b.x} ${b.y + b.h / 2}" fill="none" stroke="#8a9099" stroke-width="1.5" marker-end="url(#arrow)"/>`;
  }).join('');
  const boxes = nodes.map((n) => {
    const p = pos.get(n.id) as { x: number; y: number; h: number };
    const text = n.lines.map((l, i) => `<text x="${p.x + 8}" y="${p.y + 20 + i * lineHeight}" font-size="12" ${i === 0 ? 'font-weight="600"' : ''}>${esc(clip(l, 30))}</text>`).join('');
    return `<g class="node" data-state="${n.state}"><title>${esc(n.lines.join(' '))} (${n.state})</title><rect x="${p.x}" y="${p.y}" width="${boxWidth}" height="${p.h}" rx="6" fill="${FILL[n.state]}" stroke="#6b7280"/>${text}</g>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="DNS chain of ${esc(dns.domain)}" font-family="system-ui, sans-serif">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#8a9099"/></marker></defs>
${lines}${boxes}</svg>`;
}

function dnsTable(report: CheckReport): string {
  const rows = report.dns.lookups.map((l) => `<tr><td class="mono">${esc(l.type)}</td><td class="mono">${esc(l.name)}</td><td><span class="k ${l.state}">${esc(l.state)}</span></td><td class="mono">${esc(l.result === 'records' ? l.records.join('\n') : `${l.result}${l.why ? `: ${l.why}` : ''}`)}</td></tr>`).join('');
  return `<table><thead><tr><th>Type</th><th>Name</th><th>DNSSEC</th><th>Answer</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function targetSection(t: TargetReport, index: number, checkedAt: string): string {
  const v = t.verdicts;
  const verdict = (title: string, x: { connects: boolean; method: string; reasons: readonly string[] }): string =>
    `<div class="verdict"><b>${esc(title)}</b><br><span class="${x.connects ? 'pass' : 'error'}">${x.connects ? `connects (${esc(x.method)})` : 'refuses'}</span>${x.reasons.length > 0 ? `<br><small>${esc(x.reasons.join('; '))}</small>` : ''}</div>`;
  const tls = t.tls.connected
    ? `<p>${esc(t.tls.protocol ?? '?')} · ${esc(t.tls.cipher ?? '?')} · key ${esc(t.tls.key ?? '?')} · SNI ${esc(t.tls.servername)} · versions ${esc(Object.entries(t.tls.versions).map(([k, ok]) => `${k.replace('TLSv', '')} ${ok === null ? '?' : ok ? 'yes' : 'no'}`).join(', '))} · OCSP stapled ${t.tls.ocspStapled ? 'yes' : 'no'} · client certificate requested ${t.tls.clientCertificateRequested === null ? 'unknown' : t.tls.clientCertificateRequested ? 'yes' : 'no'}</p>`
    : `<p class="error">TLS failed: ${esc(t.tls.error ?? '?')}</p>`;
  const sip = t.sip.answered ? `${t.sip.status ?? '?'} ${t.sip.reason ?? ''}${t.sip.server ? ` · Server ${t.sip.server}` : ''}${t.sip.allow !== undefined ? ` · Allow ${t.sip.allow}` : ''}` : `not answered (${t.sip.error ?? '?'})`;
  return `<section class="target-section" id="target-${index}">
<h2>Target ${esc(t.target)}${t.plan.srvHost ? ` <small>(SRV ${esc(t.plan.srvHost)})</small>` : ''}</h2>
${tls}
<div class="verdicts">${verdict('DANE-aware client', v.daneAware)}${verdict('RFC 5922-only client', v.rfc5922Only)}${verdict('CN-only client', v.cnOnly)}</div>
${t.daneRecords.length > 0 ? `<p>${t.daneRecords.map((r) => `TLSA <code>${esc(clip(r.record, 40))}</code>: <span class="${r.matches ? 'pass' : 'error'}">${r.matches ? 'matches' : esc(r.detail)}</span>`).join('<br>')}</p>` : ''}
${t.chain.length > 0 ? `<h3>Certificate chain</h3><figure class="picture cert-chain">${chainSvg(t, index, Date.parse(checkedAt))}</figure>` : ''}
<p>SIP OPTIONS: ${esc(sip)}</p>
</section>`;
}

/** The presented chain, leaf at the top, each certificate pointing to its issuer. */
function chainSvg(t: TargetReport, index: number, now: number): string {
  const boxHeight = 62;
  const gap = 26;
  const width = 560;
  const height = 10 + t.chain.length * (boxHeight + gap);
  const boxes = t.chain.map((entry, i) => {
    const y = 10 + i * (boxHeight + gap);
    const expired = Date.parse(entry.notAfter) < now;
    const anchor = t.anchorDepth === entry.depth;
    const fill = expired ? '#f6d3d0' : anchor ? '#d8efd9' : '#eef0f3';
    const arrow = i < t.chain.length - 1 ? `<path d="M${width / 2} ${y + boxHeight} L${width / 2} ${y + boxHeight + gap - 2}" stroke="#8a9099" stroke-width="1.5" marker-end="url(#arrow-c${index})"/><text x="${width / 2 + 8}" y="${y + boxHeight + 17}" font-size="11" fill="#555">issued by</text>` : '';
    return `<g class="cert" data-depth="${entry.depth}"><title>${esc(entry.subject)}</title><rect x="10" y="${y}" width="${width - 20}" height="${boxHeight}" rx="6" fill="${fill}" stroke="#6b7280"/>
<text x="22" y="${y + 20}" font-size="13" font-weight="600">[${entry.depth}] ${esc(clip(entry.subject, 60))}</text>
<text x="22" y="${y + 38}" font-size="11">issuer ${esc(clip(entry.issuer, 66))}</text>
<text x="22" y="${y + 54}" font-size="11">${esc(entry.notBefore.slice(0, 10))} to ${esc(entry.notAfter.slice(0, 10))}${expired ? ' (expired)' : ''}${anchor ? ' · trust anchor' : ''}</text></g>${arrow}`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="certificate chain of ${esc(t.target)}" font-family="system-ui, sans-serif">
<defs><marker id="arrow-c${index}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#8a9099"/></marker></defs>${boxes}</svg>`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
