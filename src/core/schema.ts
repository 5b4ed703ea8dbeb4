import { z } from 'zod';
import { Decimal, MAX_AMOUNT } from './decimal.js';

/**
 * Wire primitives shared by every command. Inputs accept what a query string or a model sends
 * (numeric strings as well as numbers); outputs are plain JSON numbers and ISO strings.
 */

export const NAME_RE = /^[A-Za-z0-9_-]+$/;

/*
 * The input alphabet. Free text (reasons, ids, tokens, credentials, search terms) is any Unicode text
 * except control characters (C0 and DEL) and UTF-16 surrogates that are not part of a pair: Postgres
 * cannot store NUL in text or jsonb, a lone surrogate is not valid UTF-8 anywhere past this process, and
 * a control character in a name or reason only ever serves to hide or forge text in a log. A field that
 * really carries line breaks (a PEM private key) allows \t, \n and \r and nothing else.
 */
const TEXT_RE = /^[^\u0000-\u001F\u007F\p{Cs}]*$/u;
const MULTILINE_TEXT_RE = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\p{Cs}]*$/u;
const TEXT_MESSAGE = 'must not contain control characters or unpaired surrogates';

/** Free text within the input alphabet, `min`..`max` characters; `multiline` also allows tab and line breaks. */
export function Text(opts: { min?: number; max: number; multiline?: boolean; trim?: boolean }) {
  const base = opts.trim ? z.string().trim() : z.string();
  return base
    .min(opts.min ?? 0)
    .max(opts.max)
    .regex(opts.multiline ? MULTILINE_TEXT_RE : TEXT_RE, TEXT_MESSAGE);
}

/** What no field of any command accepts, whatever its own schema says: Postgres cannot hold it. */
const UNSTORABLE_RE = /[\u0000\p{Cs}]/u;

/**
 * How deep any command's input may nest. No schema goes past a handful of levels; the bound is there so
 * that a hostile body of thousands of nested objects is refused here, with its path, rather than blowing
 * the stack of whatever later walks it (a schema, JSON.stringify, the journal).
 */
export const MAX_INPUT_DEPTH = 64;

/** The first defect no command's schema may let through: where it is and what it is. */
export interface InputDefect {
  path: string;
  message: string;
}

/**
 * The first string (value or key) in `value` that holds a NUL or a lone surrogate (Postgres cannot hold
 * it), or the first place it nests deeper than MAX_INPUT_DEPTH; null when there is neither. execute()
 * refuses such input before a command's own schema sees it, so no command can let one through by
 * declaring a plain z.string() or z.unknown().
 */
export function inputDefect(value: unknown, path: Array<string | number> = [], depth = 0): InputDefect | null {
  if (typeof value === 'string') return UNSTORABLE_RE.test(value) ? { path: path.join('.') || '(root)', message: UNSTORABLE } : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_INPUT_DEPTH) return { path: path.join('.') || '(root)', message: `nests deeper than ${MAX_INPUT_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = inputDefect(value[i], [...path, i], depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    if (UNSTORABLE_RE.test(k)) return { path: [...path, k.replace(UNSTORABLE_RE, '?')].join('.'), message: UNSTORABLE };
    const p = inputDefect(v, [...path, k], depth + 1);
    if (p !== null) return p;
  }
  return null;
}

const UNSTORABLE = 'contains a NUL character or an unpaired surrogate';

export const AccountName = z
  .string()
  .min(1)
  .max(64)
  .regex(NAME_RE, 'letters, digits, "_" and "-" only')
  .describe('Account name, e.g. "master_account".');

export const ConnectorName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_]+$/, 'lowercase letters, digits and "_" only')
  .describe('Connector name: a ccxt exchange id ("binance"), its paper-trading twin ("binance_paper_trade"), a perpetual connector ("binance_perpetual") or the built-in "sim" / "sim_perpetual".');

export const TradingPair = z
  .string()
  .regex(/^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/, 'BASE-QUOTE in capitals, e.g. BTC-USDT')
  .describe('BASE-QUOTE, e.g. "BTC-USDT".');

const DECIMAL_RE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A decimal amount: a JSON number or a numeric string; kept as a string so no float creeps in. */
export const DecimalIn = z
  .union([z.number().finite(), z.string().trim().regex(DECIMAL_RE, 'a decimal number')], {
    // A plain union would say only "Invalid input" for a missing field, null or a boolean.
    error: (iss) => (iss.code !== 'invalid_union' ? undefined : iss.input === undefined ? 'required: a decimal number (a JSON number or a numeric string)' : 'must be a decimal number: a JSON number or a numeric string such as "0.01"'),
  })
  .transform((v) => (typeof v === 'number' ? String(v) : v))
  .refine((v) => new Decimal(v).abs().lt(MAX_AMOUNT), 'must be smaller than 1e20 in magnitude');

export const PositiveDecimalIn = DecimalIn.refine((v) => Number(v) > 0, 'must be greater than 0');

export const NonNegativeDecimalIn = DecimalIn.refine((v) => Number(v) >= 0, 'must be 0 or more');

/** An integer that may arrive as a query-string value; the range is advertised in the JSON Schema. */
export const QueryInt = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  const int = z.number({ error: message }).int(message).min(min, message).max(max, message);
  return z.union([int, z.string().trim().regex(/^-?\d+$/, message).transform(Number).pipe(int)], { error: message });
};

/** A boolean that may arrive as a query-string value ("true"/"false"/"1"/"0"). */
export const QueryBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');

/** A list that may arrive as repeated query parameters, a comma-separated string, or a JSON array. */
export function QueryList<T extends z.ZodType<unknown, string>>(item: T) {
  const split = z
    .string()
    .transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item));
  return z.union([z.array(item), split]);
}

export const Limit = QueryInt(1, 1000).optional().describe('Maximum items per page (1-1000, default 100).');
export const Cursor = z.string().regex(/^\d{1,9}$/, 'a next_cursor value from a previous page').optional().describe('Opaque cursor from a previous page\'s pagination.next_cursor.');

/** A cursor that is a row id (a bigserial): digits, within the integers JavaScript and bigint share. */
export const IdCursor = z
  .string()
  .regex(/^\d{1,16}$/, 'a next_cursor value from a previous page')
  .refine((v) => Number(v) <= Number.MAX_SAFE_INTEGER, 'a next_cursor value from a previous page')
  .optional()
  .describe("Opaque cursor from a previous page's pagination.next_cursor.");

export const PaginationOut = z.object({
  limit: z.number().int(),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
});

export function paginated<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), pagination: PaginationOut });
}

/** Pages an in-memory, already sorted list by a numeric offset cursor. */
export function pageOf<T>(items: readonly T[], limit = 100, cursor?: string): { data: T[]; pagination: z.infer<typeof PaginationOut> } {
  const start = cursor && /^\d+$/.test(cursor) ? Number(cursor) : 0;
  const data = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : null;
  return { data, pagination: { limit, has_more: next !== null, next_cursor: next } };
}

export const IsoTime = z.string().describe('ISO-8601 UTC time.');

/**
 * The times an input may name: 1970-01-01 to 9999-12-31 UTC. Every later step (Date, ISO strings,
 * Postgres timestamptz, the candle arithmetic) holds these exactly; beyond them a year has five digits
 * or a millisecond count loses precision.
 */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const TIME_MESSAGE = 'epoch milliseconds or an ISO-8601 date or time (UTC unless it names a zone) from 1970-01-01 to 9999-12-31, e.g. 2026-01-31T00:00:00Z';

const ISO_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/i;

/**
 * An ISO-8601 date or date-time in epoch ms, or NaN. Stricter than Date.parse, which rolls an impossible
 * date forward (2023-02-29 is March 1st, T24:00 the next day) and reads other formats in the server's
 * local zone: here a date that does not exist is refused, and a time without a zone is UTC.
 */
export function parseIsoTime(text: string): number {
  const m = ISO_TIME_RE.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > new Date(Date.UTC(y!, mo!, 0)).getUTCDate() || h > 23 || mi > 59 || sec > 59) return NaN;
  const offH = m[10] === undefined ? 0 : Number(m[10]);
  const offM = m[11] === undefined ? 0 : Number(m[11]);
  if (offH > 23 || offM > 59) return NaN;
  const offset = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  const utc = new Date(0);
  utc.setUTCFullYear(y!, mo! - 1, d!);
  utc.setUTCHours(h, mi, sec, ms);
  return utc.getTime() - offset;
}

/** A point in time given as epoch milliseconds (number or digits) or an ISO-8601 string; parsed to ms. */
export const TimeIn = z
  .union([z.number().int().nonnegative(), z.string().trim().min(1).max(64)], { error: TIME_MESSAGE })
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : parseIsoTime(v);
    if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
      // Written as ISO-8601 but naming no real moment (2023-02-29, 24:00): say so, not just the format.
      const impossible = typeof v === 'string' && Number.isNaN(ms) && ISO_TIME_RE.test(v);
      ctx.addIssue({ code: 'custom', message: impossible ? `${v} is no real date or time (the day, hour, minute or second is out of range); ${TIME_MESSAGE}` : TIME_MESSAGE });
      return z.NEVER;
    }
    return ms;
  });

export const iso = (ms: number) => new Date(ms).toISOString();
