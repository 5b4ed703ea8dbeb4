/**
 * Trading-pair patterns for allow and deny lists: `BTC-USDT`, `ETH-*`, `*-USDT` or `*`. A `*` stands for
 * one whole asset; matching ignores case.
 */
export const PAIR_PATTERN = /^(\*|[A-Za-z0-9]{1,20})-(\*|[A-Za-z0-9]{1,20})$|^\*$/;

export function pairMatches(pattern: string, pair: string): boolean {
  if (pattern === '*') return true;
  const [pb, pq] = pattern.toUpperCase().split('-');
  const [b, q] = pair.toUpperCase().split('-');
  return (pb === '*' || pb === b) && (pq === '*' || pq === q);
}

/** Why a pair is out of scope, or null. Deny wins; a non-empty allow list admits only what it names (fails closed). */
export function pairRefusal(pair: string, allowed: readonly string[] | null, denied: readonly string[]): string | null {
  const deny = denied.find((p) => pairMatches(p, pair));
  if (deny) return `${pair} matches the denied pattern ${deny}`;
  if (allowed && !allowed.some((p) => pairMatches(p, pair))) return `${pair} is not in the allowed pairs (${allowed.join(', ') || 'none'})`;
  return null;
}
