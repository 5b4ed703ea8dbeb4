import type { auditEvents } from '../db/schema/index.js';

type Row = typeof auditEvents.$inferInsert;

/**
 * The journal stores whatever a caller sent, so it cannot trust its input's alphabet: Postgres refuses
 * NUL in text and jsonb, and an unpaired UTF-16 surrogate is not valid UTF-8. Both become U+FFFD.
 * Strings are also cut, so that one call cannot put megabytes into the journal.
 */
const UNSTORABLE = /[\u0000\p{Cs}]/gu;
const REPLACEMENT = '\uFFFD';
const MAX_TEXT = 2000;
const MAX_COLUMN = 200;
const MAX_DEPTH = 12;

export function storableText(s: string, max = MAX_TEXT): string {
  const clean = s.replace(UNSTORABLE, REPLACEMENT);
  return clean.length > max ? `${clean.slice(0, max)}…[${clean.length - max} more characters]` : clean;
}

/** A JSON value the jsonb column accepts: clean strings and keys, finite numbers, bounded depth. */
export function storableValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return storableText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value === undefined ? null : value;
  if (depth >= MAX_DEPTH) return '[depth]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => storableValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, storableText(k, MAX_COLUMN), storableValue(v, depth + 1));
  return out;
}

/** Sets a key as an own property: "__proto__" stays a plain key rather than replacing the prototype. */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const cleanColumn = (s: string | null | undefined) => (typeof s === 'string' ? storableText(s, MAX_COLUMN) : s);

/** The row with every text and jsonb column made storable. */
export function storableRow<R extends Partial<Row>>(row: R): R {
  const out: Partial<Row> = { ...row };
  for (const k of ['channel', 'principal', 'command', 'risk', 'outcome', 'requestId', 'accountName', 'fingerprint'] as const) {
    if (k in out) (out as Record<string, unknown>)[k] = cleanColumn(out[k] as string | null | undefined);
  }
  if ('input' in out) out.input = storableValue(out.input) as object;
  if ('detail' in out) out.detail = storableValue(out.detail) as object | null;
  return out as R;
}

/**
 * The row reduced to what cannot fail: a row the database refused whole still records who called what,
 * when, and the outcome. The value that could not be stored is kept as text in `detail`.
 */
export function unstorableFallback(row: Row): Row {
  return {
    ...row,
    input: { unstorable: true },
    notional: null,
    detail: { unstorable: true, notional: row.notional ?? null },
  };
}
