/**
 * The overall grade of a domain (docs/CHECK.md "Grade"): ? when the domain could not be audited
 * (the check was cut short, or DNS lookups failed and no TLS target was found: absence is not
 * proven), F when no careful client can reach the domain over a verified TLS hop (or the DNS is
 * forged), C when one can
 * but there are errors, B with warnings only, A without, A+ when DANE authenticates every target.
 */
import type { Finding } from './findings.js';

export type Grade = 'A+' | 'A' | 'B' | 'C' | 'F' | '?';

export const GRADES: readonly Grade[] = ['A+', 'A', 'B', 'C', 'F', '?'];

export function gradeOf(findings: readonly Finding[], targets: readonly { readonly target: string }[]): Grade {
  const has = (id: Finding['id']): boolean => findings.some((f) => f.id === id);
  const verified = new Set(findings.filter((f) => f.id === 'cert-verified').map((f) => f.target));
  if (has('dns-bogus')) return 'F';
  if (has('check-cut-short')) return '?';
  if (targets.length === 0 && (has('dns-indeterminate') || has('dns-no-answer'))) return '?';
  if (verified.size === 0) return 'F';
  if (findings.some((f) => f.severity === 'error')) return 'C';
  if (findings.some((f) => f.severity === 'warning')) return 'B';
  const dane = new Set(findings.filter((f) => f.id === 'dane-ok').map((f) => f.target));
  return targets.length > 0 && targets.every((t) => dane.has(t.target)) ? 'A+' : 'A';
}
