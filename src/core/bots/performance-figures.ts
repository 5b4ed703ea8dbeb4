import { Decimal, MAX_AMOUNT } from '../decimal.js';

/** The PerformanceReport figures kept as numeric columns, by their Hummingbot field names. */
export const PERFORMANCE_FIGURES = [
  'realized_pnl_quote',
  'unrealized_pnl_quote',
  'unrealized_pnl_pct',
  'realized_pnl_pct',
  'global_pnl_quote',
  'global_pnl_pct',
  'volume_traded',
] as const;
export type PerformanceFigure = (typeof PERFORMANCE_FIGURES)[number];

/**
 * One reported figure as a decimal string for a numeric(38,18) column, or null when it has none to give:
 * absent, not a number (Hummingbot's ujson can send NaN), or beyond what the column holds. A float is
 * read at its shortest decimal form, so 0.1 is stored as 0.1 and not as its binary neighbour. The report
 * is kept whole beside the figures, so nothing sent is lost.
 */
export function figure(value: unknown): string | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  let d: Decimal;
  try {
    d = new Decimal(typeof value === 'number' ? String(value) : value.trim());
  } catch {
    return null;
  }
  return d.isFinite() && d.abs().lt(MAX_AMOUNT) ? d.toFixed() : null;
}
