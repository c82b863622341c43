import type { SrvRecord } from './records.js';

/**
 * Orders SRV records for contact (RFC 2782, "Usage rules" and the Weight field): lowest priority
 * first; within one priority, repeatedly pick a record at random with probability proportional
 * to its weight, zero-weight records placed first so that they have a very small chance.
 * `random` returns a number in [0, 1) and is injected so that tests can fix the draws.
 *
 * `deterministic` orders equal priorities by weight (heaviest first), then by target and port,
 * for stateless proxies (RFC 3263 section 4.4: "alphabetize them").
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number, deterministic = false): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const record of records) {
    const list = byPriority.get(record.priority) ?? [];
    list.push(record);
    byPriority.set(record.priority, list);
  }
  const ordered: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority) ?? [];
    if (deterministic) {
      ordered.push(...[...group].sort((a, b) => b.weight - a.weight || a.target.localeCompare(b.target) || a.port - b.port));
    } else {
      ordered.push(...weightedOrder(group, random));
    }
  }
  return ordered;
}

function weightedOrder(group: readonly SrvRecord[], random: () => number): SrvRecord[] {
  // Zero weights at the beginning, the others in the order received.
  const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
  const result: SrvRecord[] = [];
  while (remaining.length > 0) {
    const sum = remaining.reduce((total, r) => total + r.weight, 0);
    // A uniform integer in [0, sum], inclusive (RFC 2782).
    const draw = Math.min(sum, Math.floor(random() * (sum + 1)));
    let running = 0;
    let index = remaining.length - 1;
    for (let i = 0; i < remaining.length; i++) {
      running += remaining[i]?.weight ?? 0;
      if (running >= draw) {
        index = i;
        break;
      }
    }
    const [chosen] = remaining.splice(index, 1);
    if (chosen !== undefined) result.push(chosen);
  }
  return result;
}
