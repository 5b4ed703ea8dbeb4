import { describe, expect, it } from 'vitest';
import { calmar, computeMetrics, dailyReturns, DAY_MS, exposure, maxDrawdown, sharpe, sortino, tradeStats } from '../../../src/core/backtest/metrics.js';
import { Decimal } from '../../../src/core/decimal.js';
import type { ExecutorReport } from '../../../src/core/strategy/types.js';

const D = (s: string | number) => new Decimal(s);

function report(side: 'buy' | 'sell', netPnl: string, closeType: ExecutorReport['closeType'], volume = '100'): ExecutorReport {
  return {
    id: `${side}${netPnl}`,
    type: 'position',
    connector: 'sim',
    tradingPair: 'BTC-USDT',
    side,
    status: 'terminated',
    closeType,
    createdAt: 0,
    closedAt: 1,
    positionAmount: D(0),
    entryPrice: D(100),
    volume: D(volume),
    fees: D(0),
    realizedPnl: D(netPnl),
    unrealizedPnl: D(0),
    netPnl: D(netPnl),
    netPnlPct: D(0),
    custom: {},
  };
}

const T = Date.UTC(2024, 0, 1);

describe('drawdown', () => {
  it('is the largest fall of equity from its running peak, in quote and as a fraction of the peak', () => {
    // equity 110, 90, 105, 80: peak 110, deepest 80
    expect(maxDrawdown(100, [10, -10, 5, -20])).toEqual({ quote: 30, pct: 30 / 110 });
  });
  it('counts a fall from the starting equity', () => {
    const dd = maxDrawdown(100, [-5, -7, -1]);
    expect(dd.quote).toBe(7);
    expect(dd.pct).toBeCloseTo(0.07, 12);
  });
  it('is 0 on a series that never falls, and the fraction is null without starting equity', () => {
    expect(maxDrawdown(100, [1, 2, 3])).toEqual({ quote: 0, pct: 0 });
    expect(maxDrawdown(0, [1]).pct).toBeNull();
  });
});

describe('daily returns, Sharpe and Sortino', () => {
  // Candle closes: two on day 1, one at midnight closing day 1's last minute, one on day 2, one on day 3.
  const time = [T + 60_000, T + DAY_MS - 60_000, T + DAY_MS, T + DAY_MS + 60_000, T + 2 * DAY_MS + 60_000];
  const pnl = [3, 7, 10, -1, 8.9];

  it('compounds the equity into UTC days, a close at midnight belonging to the day it ends', () => {
    const d = dailyReturns(100, time, pnl);
    expect(d).toHaveLength(3);
    // 110 / 100, 99 / 110, 108.9 / 99
    expect(d[0]).toBeCloseTo(0.1, 12);
    expect(d[1]).toBeCloseTo(-0.1, 12);
    expect(d[2]).toBeCloseTo(0.1, 12);
  });

  it('a day without a close keeps its equity: weekly closes give a return on each seventh day and 0 between', () => {
    const weeks = [T + 7 * DAY_MS, T + 14 * DAY_MS, T + 21 * DAY_MS];
    const d = dailyReturns(100, weeks, [1, 2.01, 3.0301]);
    const zeros = [0, 0, 0, 0, 0, 0];
    expect(d.map((x) => Number(x.toFixed(12)))).toEqual([0.01, ...zeros, 0.01, ...zeros, 0.01]);
    // A gap of two days inside a daily series is two zero days.
    expect(dailyReturns(100, [T + DAY_MS, T + 4 * DAY_MS], [10, 21]).map((x) => Number(x.toFixed(12)))).toEqual([0.1, 0, 0, 0.1]);
  });

  it('Sharpe = mean / sample std × √365', () => {
    // mean 1/30, variance ((1/15)² + (2/15)² + (1/15)²) / 2 = 1/75
    expect(sharpe([0.1, -0.1, 0.1])).toBeCloseTo((1 / 30) * Math.sqrt(75) * Math.sqrt(365), 10);
  });

  it('Sortino = mean / √(Σ min(r,0)² / N) × √365', () => {
    expect(sortino([0.1, -0.1, 0.1])).toBeCloseTo((1 / 30 / Math.sqrt(0.01 / 3)) * Math.sqrt(365), 10);
  });

  it('are null with fewer than two days, no dispersion or no losing day', () => {
    expect(sharpe([0.1])).toBeNull();
    expect(sharpe([0.01, 0.01, 0.01])).toBeNull();
    expect(sortino([0.1])).toBeNull();
    expect(sortino([0.1, 0.2])).toBeNull();
  });
});

describe('Calmar', () => {
  it('is CAGR over 365-day years divided by the max drawdown', () => {
    expect(calmar(100, 110, 365 * DAY_MS, 0.05)).toBeCloseTo(2, 12);
    // half a year at +10% compounds to 21% a year
    expect(calmar(100, 110, 182.5 * DAY_MS, 0.1)).toBeCloseTo(2.1, 12);
  });
  it('is null without a drawdown or a duration', () => {
    expect(calmar(100, 110, 365 * DAY_MS, 0)).toBeNull();
    expect(calmar(100, 110, 0, 0.1)).toBeNull();
  });
});

describe('trade statistics', () => {
  const rs = [report('buy', '10', 'TAKE_PROFIT'), report('buy', '-5', 'STOP_LOSS'), report('sell', '3', 'TRAILING_STOP'), report('sell', '0', 'TIME_LIMIT'), report('buy', '0', 'EXPIRED', '0')];

  it('counts accuracy over executors with a non-zero PnL, win rate over those that traded', () => {
    const s = tradeStats(rs);
    expect(s.positions).toBe(4);
    expect(s.accuracy).toBeCloseTo(2 / 3, 12);
    expect(s.winRate).toBe(0.5);
    expect(s.accuracyLong).toBe(0.5);
    expect(s.accuracyShort).toBe(1);
    expect(s.profitFactor).toBe(2.6);
    expect(s.closeTypes).toEqual({ EXPIRED: 1, STOP_LOSS: 1, TAKE_PROFIT: 1, TIME_LIMIT: 1, TRAILING_STOP: 1 });
  });

  it('gives null, not 0 or 1, where a ratio has no denominator', () => {
    const s = tradeStats([report('buy', '4', 'TAKE_PROFIT')]);
    expect(s.profitFactor).toBeNull();
    expect(s.accuracyShort).toBeNull();
    const none = tradeStats([]);
    expect([none.accuracy, none.winRate, none.accuracyLong, none.profitFactor]).toEqual([null, null, null, null]);
    expect(tradeStats([report('buy', '-4', 'STOP_LOSS')]).profitFactor).toBe(0);
  });
});

describe('exposure and the summary', () => {
  it('exposure is the share of candles closed with a position', () => {
    expect(exposure([0, 0.1, -0.2, 0])).toBe(0.5);
    expect(exposure([])).toBeNull();
  });

  it('puts the figures together; percentages are null without starting equity', () => {
    const m = computeMetrics({
      initialEquity: 1000,
      netPnl: D('25.5'),
      volume: D('2000'),
      fees: D('1.6'),
      executors: [report('buy', '25.5', 'TAKE_PROFIT')],
      series: { time: [T + 60_000, T + 120_000], pnl: [-10, 25.5], position: [0.1, 0] },
      durationMs: 120_000,
    });
    expect(m).toMatchObject({
      net_pnl_quote: '25.5',
      net_pnl_pct: 0.0255,
      total_executors: 1,
      total_positions: 1,
      total_volume_quote: '2000',
      total_fees_quote: '1.6',
      accuracy: 1,
      win_rate: 1,
      profit_factor: null,
      max_drawdown_quote: 10,
      sharpe_ratio: null,
      sortino_ratio: null,
      exposure: 0.5,
      close_types: { TAKE_PROFIT: 1 },
    });
    expect(m.max_drawdown_pct).toBeCloseTo(0.01, 12);
    expect(computeMetrics({ initialEquity: 0, netPnl: D(0), volume: D(0), fees: D(0), executors: [], series: { time: [], pnl: [], position: [] }, durationMs: 0 })).toMatchObject({
      net_pnl_pct: null,
      max_drawdown_pct: null,
      calmar_ratio: null,
      exposure: null,
    });
  });
});
