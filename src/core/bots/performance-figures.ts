import type { botPerformance } from '../db/schema/index.js';
import { Decimal, MAX_AMOUNT } from '../decimal.js';
import type { Performance } from './protocol/reports.js';

/** A decimal written plainly: no exponent, no padding, no leading zeros, at most 20 integer digits (below 1e20). */
const PLAIN = /^-?(?:0|[1-9]\d{0,19})(?:\.\d+)?$/;

/**
 * One reported figure as a decimal string for a numeric(38,18) column, or null when it has none to give:
 * absent, not a number (Hummingbot's ujson can send NaN), or beyond what the column holds. A float is
 * read at its shortest decimal form, so 0.1 is stored as 0.1 and not as its binary neighbour. The report
 * is kept whole beside the figures, so nothing sent is lost.
 */
export function figure(value: unknown): string | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  // The common case needs no decimal object: a plain decimal string, or a float whose shortest form has
  // no exponent, with at most 20 integer digits, is already within the column and is what Postgres reads.
  if (typeof value === 'number') {
    if (Number.isFinite(value) && Math.abs(value) < 1e20) {
      const s = String(value);
      if (!s.includes('e')) return s;
    }
  } else if (PLAIN.test(value)) return value;
  let d: Decimal;
  try {
    d = new Decimal(typeof value === 'number' ? String(value) : value.trim());
  } catch {
    return null;
  }
  return d.isFinite() && d.abs().lt(MAX_AMOUNT) ? d.toFixed() : null;
}

/**
 * The snapshot rows of one `performance` report: one per controller that reported figures. A controller
 * reporting `{}` (Hummingbot does so when it stops) has nothing to snapshot.
 */
export function snapshotRows(botId: string, at: Date, report: Performance): Array<typeof botPerformance.$inferInsert> {
  return Object.entries(report)
    .filter(([, entry]) => entry.performance && Object.keys(entry.performance).length > 0)
    .map(([controllerId, entry]) => {
      const p = entry.performance as Record<string, unknown>;
      return {
        botId,
        controllerId,
        at,
        realizedPnlQuote: figure(p.realized_pnl_quote),
        unrealizedPnlQuote: figure(p.unrealized_pnl_quote),
        unrealizedPnlPct: figure(p.unrealized_pnl_pct),
        realizedPnlPct: figure(p.realized_pnl_pct),
        globalPnlQuote: figure(p.global_pnl_quote),
        globalPnlPct: figure(p.global_pnl_pct),
        volumeTraded: figure(p.volume_traded),
        raw: entry as Record<string, unknown>,
      };
    });
}
