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
  /**
   * Which end was kept: `newest` for a time series in ascending order (its old end was dropped);
   * `oldest` for such a series read forward, page after page (its new end was dropped, and the next
   * page starts there); else `first` (a list newest first, a book best first, or a list with no time).
   */
  kept: 'first' | 'newest' | 'oldest';
  /** For `newest`: the time of the first item kept, in epoch ms. */
  firstKeptMs?: number;
  /** For `oldest`: the time of the first item dropped, where a forward read goes on. */
  firstDroppedMs?: number;
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
  /** A time series oldest first. */
  ascending: boolean;
  /** Cut from the start, so the newest items stay: an ascending series not read forward. */
  fromEnd: boolean;
}

/** Fields that date a list's items, in the order they are looked for. */
const TIME_FIELDS = ['timestamp', 'time', 'at', 'created_at'] as const;

/** The time of an item in epoch ms, from the first time field it has; undefined when it has none. */
function timeOf(item: unknown, field: string): number | undefined {
  if (!isPlainObject(item)) return undefined;
  const v = item[field];
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  // Only times a Date can hold: the notice prints them.
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : undefined;
}

const MAX_DATE_MS = 8.64e15;

/** The time field of a list whose first and last items both carry it, if any. */
function timeFieldOf(items: readonly unknown[]): string | undefined {
  if (items.length < 2) return undefined;
  return TIME_FIELDS.find((f) => timeOf(items[0], f) !== undefined && timeOf(items[items.length - 1], f) !== undefined);
}

/**
 * Whether a list is a time series oldest first (candles, trades, portfolio points). Such a list loses
 * its OLD end when cut: an agent asking for the latest candles must get the latest ones. A list newest
 * first (orders, fills, the journal) keeps its start, which is already its newest end.
 */
function isAscendingSeries(items: readonly unknown[]): boolean {
  const f = timeFieldOf(items);
  return f !== undefined && timeOf(items[0], f)! < timeOf(items[items.length - 1], f)!;
}

/**
 * Shortens the largest lists until the JSON fits `budget` characters: each list over a common size
 * ("water level") keeps its items up to that size, so two big lists (bids and asks) are cut alike
 * instead of one of them vanishing. A time series oldest first keeps its last (newest) items, any
 * other list its first ones. Lists inside list items are left whole: the outer list's items are what
 * the query's limit counts.
 */
export function cutToFit<T>(value: T, budget: number, json = JSON.stringify(value)): CutResult<T> {
  if (json.length <= budget || !isPlainObject(value)) return { value, cuts: [], json };
  const candidates: Candidate[] = [];
  // A page read forward (it says so, or says where the next one starts) keeps its old end: dropping
  // that would leave a hole between this page and the one before or after it.
  const forward = value.direction === 'forward' || typeof value.next_start_time === 'string';
  // Objects on the way to a list are copied (shallowly) so the caller's value is left as it was;
  // the lists' items are shared, never changed.
  const root = copySpine(value, '', candidates, forward) as T;
  let size = json.length;
  // One pass removes at least the excess unless every list is empty; a second one only settles the
  // rounding to whole items, and the bound guards against a loop.
  for (let pass = 0; pass < 4 && size > budget; pass++) {
    const sizes = candidates.map((c) => listLength(c, shownOf(c)));
    const level = waterLevel(sizes, size - budget);
    let removed = 0;
    candidates.forEach((c, i) => {
      if (sizes[i]! <= level) return;
      const keep = longestRun(c, level);
      c.holder[c.key] = c.fromEnd ? c.items.slice(c.items.length - keep) : c.items.slice(0, keep);
      removed += sizes[i]! - listLength(c, keep);
    });
    if (removed === 0) break;
    size -= removed;
  }
  const cuts = candidates.filter((c) => shownOf(c) < c.items.length).map(cutOf);
  return { value: root, cuts, json: JSON.stringify(root) };
}

const shownOf = (c: Candidate) => (c.holder[c.key] as unknown[]).length;

function cutOf(c: Candidate): ListCut {
  const shown = shownOf(c);
  if (!c.ascending) return { path: c.path, shown, total: c.items.length, kept: 'first' };
  const field = timeFieldOf(c.items)!;
  if (!c.fromEnd) {
    const ms = timeOf(c.items[shown], field);
    return { path: c.path, shown, total: c.items.length, kept: 'oldest', ...(ms !== undefined ? { firstDroppedMs: ms } : {}) };
  }
  const first = c.items[c.items.length - shown];
  const ms = shown > 0 ? timeOf(first, field) : undefined;
  return { path: c.path, shown, total: c.items.length, kept: 'newest', ...(ms !== undefined ? { firstKeptMs: ms } : {}) };
}

/** Only plain objects are copied through; anything else (a Date, say) serializes on its own terms. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Copies the objects of `obj` down to its outer lists, which it records as candidates. */
function copySpine(obj: Record<string, unknown>, prefix: string, out: Candidate[], forward: boolean): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...obj };
  for (const [key, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(v)) {
      // JSON.stringify gives undefined for an undefined or function item, which a list shows as null.
      const ascending = isAscendingSeries(v);
      const c: Candidate = { holder: copy, key, path, items: v, lens: v.map((x) => JSON.stringify(x)?.length ?? 4), ascending, fromEnd: ascending && !forward };
      out.push(c);
    } else if (isPlainObject(v)) {
      copy[key] = copySpine(v, path, out, forward);
    }
  }
  return copy;
}

/** The length of the item `k` places from the kept end (the start, or the end of an ascending series). */
const lenFromKeptEnd = (c: Candidate, k: number) => c.lens[c.fromEnd ? c.items.length - 1 - k : k]!;

/** Serialized length of the list holding `n` items from its kept end: brackets, items, commas. */
function listLength(c: Candidate, n: number): number {
  let len = 2 + Math.max(0, n - 1);
  for (let k = 0; k < n; k++) len += lenFromKeptEnd(c, k);
  return len;
}

/** The most items from the kept end whose serialized list is at most `max` characters. */
function longestRun(c: Candidate, max: number): number {
  let len = 2;
  let n = 0;
  while (n < c.items.length) {
    const next = len + lenFromKeptEnd(c, n) + (n > 0 ? 1 : 0);
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

/** Series lists whose command reads backwards from `end_time` (candles, portfolio points). */
const PAGED_BY_END_TIME = new Set(['candles', 'points']);

function cutLine(c: ListCut): string {
  const head = `Result cut: ${c.shown} of ${c.total} items of \`${c.path}\` shown`;
  if (c.kept === 'first') return `${head} (the first ones).`;
  if (c.kept === 'oldest') {
    const line = `${head}: the oldest; the ${c.total - c.shown} newest were dropped.`;
    return c.firstDroppedMs === undefined ? line : `${line} To read on, call again with start_time=${new Date(c.firstDroppedMs).toISOString()} (next_start_time follows the uncut page).`;
  }
  const dropped = c.total - c.shown;
  const from = c.firstKeptMs !== undefined ? `, from ${new Date(c.firstKeptMs).toISOString()} on` : '';
  const line = `${head}: the newest${from}; the ${dropped} oldest were dropped.`;
  if (c.firstKeptMs === undefined || !PAGED_BY_END_TIME.has(c.path)) return line;
  return `${line} To read them, call again with end_time=${c.firstKeptMs - 1} and limit=${dropped}, without start_time.`;
}

/** What a tool offers to read the rest of a cut result: its narrowing parameters, and its REST route. */
export interface CutHelp {
  /** Whether the tool takes anything besides ids (a limit, a time range, a filter) to narrow its result. */
  narrows: boolean;
  /** The command's REST route, which serves the result uncut (`GET /backtesting/results/{job_id}`). */
  route?: string;
}

/** The in-band notice, one line per cut list. */
export function cutNotice(cuts: readonly ListCut[], limit: number, stillOver: boolean, help: CutHelp = { narrows: true }): string {
  const lines = cuts.map(cutLine);
  if (stillOver) lines.push(`The result is still over ${limit} characters after cutting its lists.`);
  const rest = help.narrows
    ? 'Narrow the query (a smaller limit, a shorter time range, more filters) to see the rest.'
    : `This tool takes nothing to narrow its result${help.route ? `; ${help.route} over REST serves it uncut` : ''}.`;
  lines.push(
    `Results are limited to ${limit} characters. ${rest} ` +
      'Counts and continuation fields in the result (has_more, next_cursor, truncated, next_start_time) describe the uncut result: ' +
      'for a paged list, call again with limit set to the number shown, and its next_cursor continues right after the last item shown.',
  );
  return lines.join('\n');
}
