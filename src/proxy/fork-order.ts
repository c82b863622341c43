/**
 * The order in which a proxy tries the targets of a local user (RFC 3261 section 16.6: "the proxy
 * MAY ... process in the order of q"): one group per q-value, highest first, each group forked in
 * parallel, the next one only when every branch of the one before has failed. A target without a
 * q-value counts as q=1.0, the top of the range (section 20.10): a binding that states no
 * preference is not put behind one that states a low one. Pure.
 */

/** q of a target that states none (RFC 3261 section 20.10 range 0 to 1: the highest). */
export const DEFAULT_Q = 1;

/**
 * The targets in groups of equal q, highest q first, keeping their order inside a group. Equal q
 * (or none anywhere) gives one group: plain parallel forking. An empty list gives no group.
 */
export function groupsByQ<T extends { readonly q: number | undefined }>(targets: readonly T[]): T[][] {
  const byQ = new Map<number, T[]>();
  for (const target of targets) {
    const q = target.q ?? DEFAULT_Q;
    const group = byQ.get(q);
    if (group === undefined) byQ.set(q, [target]);
    else group.push(target);
  }
  return [...byQ.entries()].sort((a, b) => b[0] - a[0]).map(([, group]) => group);
}
