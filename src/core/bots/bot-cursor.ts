import { AppError } from '../errors.js';

/** "<epoch ms>|<key>" in base64url: a keyset cursor over (time desc, key desc). */
export const encodeBotCursor = (at: Date, key: string) => Buffer.from(`${at.getTime()}|${key}`).toString('base64url');

export function decodeBotCursor(cursor: string): { at: Date; key: string } {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = raw.indexOf('|');
  const ms = Number(raw.slice(0, bar));
  if (bar <= 0 || !Number.isSafeInteger(ms) || bar === raw.length - 1) {
    throw new AppError('VALIDATION_FAILED', 'Invalid input: cursor: not a cursor this server issued.', {
      hint: 'Pass pagination.next_cursor from the previous page unchanged.',
      details: { issues: [{ path: 'cursor', message: 'not a cursor this server issued' }] },
    });
  }
  return { at: new Date(ms), key: raw.slice(bar + 1) };
}
