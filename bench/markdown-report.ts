import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Replaces one section of docs/BENCHMARKS.md, between `<!-- NAME:begin -->` and `<!-- NAME:end -->`,
 * so that each benchmark rewrites only its own figures.
 */
export function writeReportSection(repoRoot: string, name: string, markdown: string): string {
  const file = path.join(repoRoot, 'docs', 'BENCHMARKS.md');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `bash scripts/bench.sh`; each section is rewritten by its benchmark. Figures are from one run on the machine named in the section: compare ratios, not absolute numbers.\n';
  const section = `${begin}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, text);
  return file;
}

/** The load of the machine when the bench started (this module loads with it). */
const LOAD_AT_START = os.loadavg();

/**
 * One line describing the machine, for the header of a section, with its load average at the
 * start and at the end of the run: on a shared machine the other work is part of every figure.
 */
export function machineLine(): string {
  const load = (x: number | undefined): string => (x ?? 0).toFixed(2);
  const end = os.loadavg();
  return `Node ${process.version}, ${process.platform}/${process.arch}, measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, `
    + `load average ${load(LOAD_AT_START[0])} at the start and ${load(end[0])} (1 min) / ${load(end[1])} (5 min) at the end`;
}
