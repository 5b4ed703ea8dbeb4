import { type BacktestResult, seriesThinned } from './engine.js';
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
  // Key by key, in the result's order, so the series getter never builds every candle's point.
  const doc = Object.fromEntries(Object.keys(result).map((k) => [k, k === 'series' ? seriesThinned(result, STORED_SERIES_POINTS) : result[k as keyof BacktestResult]]));
  const json = JSON.stringify(doc);
  const byPnl = [...result.executors].sort((a, b) => Number(b.netPnl) - Number(a.netPnl) || (a.id < b.id ? -1 : 1));
  const thin = seriesThinned(result, SUMMARY_CURVE_POINTS);
  const curve = { time: thin.time, pnl: thin.pnl };
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
