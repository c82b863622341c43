/**
 * How a fault of the proxy's configuration is named: the file, the line, the key path and what is
 * wrong, so that an operator goes straight to it (`proxy.yaml:12: domains.a.test.key: ...`).
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A key path into a YAML document: map keys and sequence indexes. */
export type KeyPath = readonly (string | number)[];

/** One fault: where (file, line, key path) and what. */
export interface ConfigIssue {
  /** The file the fault is in: the config file, or a file it names (the users file). */
  readonly file: string;
  /** 1-based; undefined when the fault has no place in the file (it cannot be read). */
  readonly line: number | undefined;
  /** `domains.a.test.certificate`, `listen[1]`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** The configuration does not load; `issues` holds every fault found, in file order. */
export class ProxyConfigError extends Error {
  readonly code = 'PROXY_ERR_CONFIG' as const;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(renderIssue).join('\n'));
    this.name = 'ProxyConfigError';
  }
}

/** `FILE:LINE: key.path: message`, as compilers print faults (editors jump to them). */
export function renderIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${where}: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`;
}

/** `listen[1]`, `domains.a.test.key`: indexes in brackets, keys joined by dots. */
export function keyPathText(path: KeyPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? part : `.${part}`;
  return text;
}

/** Lines of the nodes of one parsed YAML document. */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * The line of the deepest node of `path` that exists: the key itself for a map entry (an
   * unknown key, a wrong value), its parent when it is missing (a required key left out).
   */
  lineOf(path: KeyPath): number | undefined {
    let node: unknown = this.doc.contents;
    let line = this.#line(node);
    for (const part of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(part));
        if (pair === undefined) break;
        line = this.#line(pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part];
        if (item === undefined) break;
        line = this.#line(item) ?? line;
        node = item;
      } else {
        break;
      }
    }
    return line;
  }

  #line(node: unknown): number | undefined {
    const range = (node as Node | null | undefined)?.range;
    return range === undefined || range === null ? undefined : this.lines.linePos(range[0]).line;
  }
}

/**
 * The known key closest to a mistyped one, when it is close enough to be what was meant: an edit
 * distance (with transpositions) of at most a third of the key's length, ignoring case and `_`
 * for `-` (`secret_file`, `secretFile`, `certifcate`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '-');
  const target = norm(key);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    // camelCase for kebab-case: `secretFile` is `secret-file` without its hyphen.
    const distance = Math.min(editDistance(target, norm(candidate)), editDistance(target, norm(candidate).replace(/-/g, '')));
    // A distance as long as the word itself means nothing in common (`x` for `a`).
    if (distance < bestDistance && distance < Math.min(key.length, candidate.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  const row0 = rows[0] as number[];
  for (let j = 0; j <= b.length; j++) row0[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** "unknown key 'lsiten' (did you mean 'listen'?)", or the list of keys when none is close. */
export function unknownKeyMessage(key: string, known: readonly string[], what = 'key'): string {
  const near = closestKey(key, known);
  if (near !== undefined) return `unknown ${what} '${key}' (did you mean '${near}'?)`;
  return known.length === 0 ? `unknown ${what} '${key}'` : `unknown ${what} '${key}' (known: ${known.join(', ')})`;
}
