import { z } from 'zod';
import { AppError } from './errors.js';

/**
 * The lists' keyset cursors: base64url of "<epoch ms>|<key>", the sort time and key of a page's last
 * row (newest first on (time, key)). One reading for every list, because a cursor comes back from the
 * client: what it carries goes into a query, so only a time and a key a stored row could have pass.
 */

/** The latest time a JavaScript Date holds (year 275760); Postgres timestamps reach further. Rows are all after 1970. */
const MAX_MS = 8.64e15;
/** Cursors issued before times were written in milliseconds carry ISO text. */
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Any stored key: text without control characters (Postgres text holds no NUL). */
const ANY_KEY = /^[^\u0000-\u001f\u007f]{1,300}$/;
const MESSAGE = 'a next_cursor value from a previous page';

export function encodeKeysetCursor(at: Date, key: string): string {
  return Buffer.from(`${at.getTime()}|${key}`).toString('base64url');
}

/** The time and key a cursor carries, or null when it is not one this server could have issued (`key`: the list's own key format). */
export function decodeKeysetCursor(cursor: string, key: RegExp = ANY_KEY): { at: Date; key: string } | null {
  if (!/^[A-Za-z0-9_-]{1,600}$/.test(cursor)) return null;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = raw.indexOf('|');
  if (bar <= 0) return null;
  const t = raw.slice(0, bar);
  const k = raw.slice(bar + 1);
  const ms = /^\d{1,16}$/.test(t) ? Number(t) : ISO_RE.test(t) ? isoMs(t) : Number.NaN;
  if (!(ms >= 0 && ms <= MAX_MS) || !ANY_KEY.test(k) || !key.test(k)) return null;
  return { at: new Date(ms), key: k };
}

/** decodeKeysetCursor, refusing what is not a cursor with a VALIDATION_FAILED on `cursor`. */
export function keysetCursor(cursor: string, key?: RegExp): { at: Date; key: string } {
  const c = decodeKeysetCursor(cursor, key);
  if (c === null) {
    throw new AppError('VALIDATION_FAILED', `Invalid input: cursor: ${MESSAGE}.`, {
      hint: 'Pass pagination.next_cursor from the previous page unchanged.',
      details: { issues: [{ path: 'cursor', message: MESSAGE }] },
    });
  }
  return c;
}

/** A list command's cursor field: checked when the input is parsed, so a forged cursor is a 400 that never reaches a query. */
export const KeysetCursor = (key?: RegExp) =>
  z
    .string()
    .max(600)
    .refine((v) => decodeKeysetCursor(v, key) !== null, MESSAGE)
    .optional()
    .describe("Opaque cursor from a previous page's pagination.next_cursor.");

/** An ISO time's milliseconds when it names a real instant (2026-02-31 does not: Date would roll it over). */
function isoMs(t: string): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) || new Date(ms).toISOString() !== t ? Number.NaN : ms;
}
