/**
 * Keeps a success result within what a model can take in one go. Results are cut by shortening their
 * lists, never by cutting text in the middle, so what is left is valid JSON of the same shape: every
 * field the outputSchema requires is still there, lists are only shorter (our output schemas set no
 * minimum length; a unit test checks that), and the client's validation of structuredContent passes.
 * The model learns about the cut from a separate text block, because the output schemas forbid
 * extra fields (`additionalProperties: false`).
 */

/** The default limit on a result's JSON text, in characters: about 25k tokens. */
export const MAX_RESULT_CHARS = 100_000;
/** The smallest limit a server accepts: room for some JSON next to the cut notice. */
export const MIN_RESULT_CHARS = 5_000;

export interface ListCut {
  /** Dotted path of the list, e.g. `candles` or `order_book.bids`. */
  path: string;
  shown: number;
  total: number;
}

export interface CutResult<T> {
  value: T;
  cuts: ListCut[];
  /** The serialized value (valid JSON); over the budget only when no list was left to shorten. */
  json: string;
}

/** One list not nested in another list, with the serialized length of each item. */
interface Candidate {
  holder: Record<string, unknown>;
  key: string;
  path: string;
  items: unknown[];
  lens: number[];
}

/**
 * Shortens the largest lists until the JSON fits `budget` characters: each list over a common size
 * ("water level") keeps its first items up to that size, so two big lists (bids and asks) are cut
 * alike instead of one of them vanishing. Lists inside list items are left whole: the outer list's
 * items are what the query's limit counts.
 */
export function cutToFit<T>(value: T, budget: number, json = JSON.stringify(value)): CutResult<T> {
  if (json.length <= budget || !isPlainObject(value)) return { value, cuts: [], json };
  const candidates: Candidate[] = [];
  // Objects on the way to a list are copied (shallowly) so the caller's value is left as it was;
  // the lists' items are shared, never changed.
  const root = copySpine(value, '', candidates) as T;
  let size = json.length;
  // One pass removes at least the excess unless every list is empty; a second one only settles the
  // rounding to whole items, and the bound guards against a loop.
  for (let pass = 0; pass < 4 && size > budget; pass++) {
    const sizes = candidates.map((c) => listLength(c, shownOf(c)));
    const level = waterLevel(sizes, size - budget);
    let removed = 0;
    candidates.forEach((c, i) => {
      if (sizes[i]! <= level) return;
      const keep = longestPrefix(c, level);
      c.holder[c.key] = c.items.slice(0, keep);
      removed += sizes[i]! - listLength(c, keep);
    });
    if (removed === 0) break;
    size -= removed;
  }
  const cuts = candidates.map((c) => ({ path: c.path, shown: shownOf(c), total: c.items.length })).filter((c) => c.shown < c.total);
  return { value: root, cuts, json: JSON.stringify(root) };
}

const shownOf = (c: Candidate) => (c.holder[c.key] as unknown[]).length;

/** Only plain objects are copied through; anything else (a Date, say) serializes on its own terms. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Copies the objects of `obj` down to its outer lists, which it records as candidates. */
function copySpine(obj: Record<string, unknown>, prefix: string, out: Candidate[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...obj };
  for (const [key, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(v)) {
      // JSON.stringify gives undefined for an undefined or function item, which a list shows as null.
      const c: Candidate = { holder: copy, key, path, items: v, lens: v.map((x) => JSON.stringify(x)?.length ?? 4) };
      out.push(c);
    } else if (isPlainObject(v)) {
      copy[key] = copySpine(v, path, out);
    }
  }
  return copy;
}

/** Serialized length of the list holding its first `n` items: brackets, items, commas. */
function listLength(c: Candidate, n: number): number {
  let len = 2 + Math.max(0, n - 1);
  for (let i = 0; i < n; i++) len += c.lens[i]!;
  return len;
}

/** The most items from the start whose serialized list is at most `max` characters. */
function longestPrefix(c: Candidate, max: number): number {
  let len = 2;
  let n = 0;
  while (n < c.items.length) {
    const next = len + c.lens[n]! + (n > 0 ? 1 : 0);
    if (next > max) break;
    len = next;
    n++;
  }
  return n;
}

/**
 * The size L such that cutting every list larger than L down to L removes `excess` characters:
 * sum(max(0, s - L)) = excess. Floored at 2, an empty list.
 */
export function waterLevel(sizes: number[], excess: number): number {
  const sorted = [...sizes].sort((a, b) => b - a);
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    sum += sorted[k]!;
    const level = (sum - excess) / (k + 1);
    const next = sorted[k + 1] ?? 0;
    if (level >= next) return Math.max(2, Math.floor(level));
  }
  return 2;
}

/** The in-band notice, one line per cut list. */
export function cutNotice(cuts: readonly ListCut[], limit: number, stillOver: boolean): string {
  const lines = cuts.map((c) => `Result cut: ${c.shown} of ${c.total} items of \`${c.path}\` shown (the first ones).`);
  if (stillOver) lines.push(`The result is still over ${limit} characters after cutting its lists.`);
  lines.push(
    `Results are limited to ${limit} characters. Narrow the query (a smaller limit, a shorter time range, more filters) to see the rest; ` +
      'counts and continuation fields in the result (has_more, next_cursor, truncated, next_start_time) describe the uncut result, so re-query rather than follow them.',
  );
  return lines.join('\n');
}
