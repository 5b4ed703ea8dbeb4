import type { BacktestResult } from './engine.js';
import type { BacktestMetrics } from './metrics.js';
import { resultNotes } from './result-notes.js';

/**
 * What a finished backtest keeps: the result document (series thinned to a plot's resolution), its
 * digest, and a summary small enough for a job row and for a model to read. Built in the worker.
 */

/** Points kept of each series in the stored result; one year of 1m candles is 525,600. */
export const STORED_SERIES_POINTS = 5_000;
/** Points of the equity curve in the summary (what a model reads first). */
export const SUMMARY_CURVE_POINTS = 60;
const TOP_EXECUTORS = 5;

export interface BacktestSummary {
  candles: number;
  gaps: number;
  missing_candles: number;
  executors: number;
  fills: number;
  metrics: BacktestMetrics;
  /** The best and worst executors by net PnL (id, side, close type, net PnL in quote). */
  top_executors: Array<Record<string, unknown>>;
  worst_executors: Array<Record<string, unknown>>;
  /** The PnL curve at a few points: close times (ms) and PnL in quote. */
  equity_curve: { time: number[]; pnl: number[] };
  digest: string;
  bytes: number;
  /** What the figures alone do not say (executors that never traded and why, missing candles); empty when nothing. */
  notes: string[];
}

export interface StoredBacktest {
  /** The result document as JSON text. */
  json: string;
  summary: BacktestSummary;
}

/** Indexes of `n` points thinned to at most `max`: evenly spaced, the last point always kept. */
export function thinIndexes(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const stride = Math.ceil(n / max);
  const out: number[] = [];
  for (let i = (n - 1) % stride; i < n; i += stride) out.push(i);
  return out;
}

/** The series at most `max` points, all four lists at the same indexes; `thinned_from` counts the points of the run (kept when thinned again). */
export function thinSeries(series: BacktestResult['series'] & { thinned_from?: number }, max: number): BacktestResult['series'] & { thinned_from: number } {
  const idx = thinIndexes(series.time.length, max);
  const pick = (a: number[]) => idx.map((i) => a[i]!);
  return { time: pick(series.time), pnl: pick(series.pnl), position: pick(series.position), price: pick(series.price), thinned_from: series.thinned_from ?? series.time.length };
}

const brief = (e: BacktestResult['executors'][number]) => ({
  id: e.id,
  type: e.type,
  side: e.side,
  close_type: e.closeType,
  created_at: e.createdAt,
  closed_at: e.closedAt,
  net_pnl_quote: e.netPnl,
});

export function storedBacktest(result: BacktestResult, digestOf: (text: string) => string, marketType?: 'spot' | 'perpetual'): StoredBacktest {
  const doc = { ...result, series: thinSeries(result.series, STORED_SERIES_POINTS) };
  const json = JSON.stringify(doc);
  const byPnl = [...result.executors].sort((a, b) => Number(b.netPnl) - Number(a.netPnl) || (a.id < b.id ? -1 : 1));
  const at = thinIndexes(result.series.time.length, SUMMARY_CURVE_POINTS);
  const curve = { time: at.map((i) => result.series.time[i]!), pnl: at.map((i) => result.series.pnl[i]!) };
  return {
    json,
    summary: {
      candles: result.candles,
      gaps: result.gaps.length,
      missing_candles: result.gaps.reduce((s, g) => s + g.candles, 0),
      executors: result.metrics.total_executors,
      fills: result.fills.length + (result.unlisted?.fills ?? 0),
      metrics: result.metrics,
      top_executors: byPnl.slice(0, TOP_EXECUTORS).map(brief),
      worst_executors: byPnl.slice(-TOP_EXECUTORS).reverse().map(brief),
      equity_curve: curve,
      digest: digestOf(json),
      bytes: Buffer.byteLength(json),
      notes: resultNotes(result, marketType),
    },
  };
}
