import { beforeEach, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { pmmSimple } from '../../../src/core/strategy/controllers/index.js';
import { columns, env, MIN, peeks, spec, T0 } from './helpers.js';

type Row = [number, number, number, number];
const flat: Row = [100, 100, 100, 100];
/** A long of 0.1 BTC at 100 with a 2% stop (98) and a 2% take profit (102), opened at the first step. */
const long = { at: T0, side: 'buy', amount: '0.1', stop_loss: 0.02, take_profit: 0.02 };

beforeEach(() => {
  peeks.length = 0;
});

describe('the candle path decides which barrier a candle reaches first', () => {
  // Both barriers sit inside candle 1 (low 97, high 103). The entry fills at candle 0's first path point.
  it('an up candle goes O → L → H → C: the stop loss fires, at its own price', () => {
    const r = runBacktest(spec({ opens: [long], end: T0 + 2 * MIN }), columns([flat, [100, 103, 97, 101], flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['STOP_LOSS']);
    expect(r.fills.map((f) => [f.side, f.price, f.amount])).toEqual([
      ['buy', '100', '0.1'],
      ['sell', '98', '0.1'],
    ]);
    expect(r.metrics.net_pnl_quote).toBe('-0.2');
  });

  it('a down candle goes O → H → L → C: the take profit fires', () => {
    const r = runBacktest(spec({ opens: [long], end: T0 + 2 * MIN }), columns([flat, [100, 103, 97, 99], flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['TAKE_PROFIT']);
    expect(r.fills.map((f) => f.price)).toEqual(['100', '102']);
    expect(r.metrics.net_pnl_quote).toBe('0.2');
    expect(r.metrics.close_types).toEqual({ TAKE_PROFIT: 1 });
  });

  it('the convention is the spec’s: high_first takes profit on the up candle', () => {
    const r = runBacktest(spec({ opens: [long], end: T0 + 2 * MIN, fill_path: 'high_first' }), columns([flat, [100, 103, 97, 101], flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['TAKE_PROFIT']);
  });

  it('a resting limit open filled on the way down is stopped at its own stop price, not at the low', () => {
    // limit buy at 100 (price 101), stop 1% below the fill (99): the down candle O 101 → H 101.5 → L 95 → C 96
    const limitLong = { at: T0, side: 'buy', amount: '0.1', stop_loss: 0.01, open_order_type: 'limit', entry_price: '100' };
    const r = runBacktest(spec({ opens: [limitLong], end: T0 + 2 * MIN }), columns([[101, 101, 101, 101], [101, 101.5, 95, 96], flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['STOP_LOSS']);
    expect(r.fills.map((f) => [f.side, f.price, f.is_maker])).toEqual([
      ['buy', '100', true],
      ['sell', '99', false],
    ]);
  });

  it('a candle that opens through the stop fills at the open, not at the stop', () => {
    const r = runBacktest(spec({ opens: [long], end: T0 + 2 * MIN }), columns([flat, [95, 96, 94, 95.5], flat]), null, env);
    expect(r.fills.map((f) => f.price)).toEqual(['100', '95']);
  });
});

describe('fees, slippage and the ledger in a run', () => {
  it('charges the taker fee and the slippage on both legs', () => {
    const r = runBacktest(spec({ opens: [long], end: T0 + 2 * MIN, trade_cost: 0.001, slippage_bps: 10 }), columns([flat, [100, 103, 97, 99], flat]), null, env);
    // buy 0.1 at 100 + 10 bps = 100.1, fee 0.01001
    const [buy, sell] = r.fills;
    expect(buy).toMatchObject({ price: '100.1', fee: '0.01001', is_maker: false });
    expect(r.executors[0]!.closeType).toBe('TAKE_PROFIT');
    // the take profit sits at 100.1 × 1.02 = 102.102; the market sell there fills 10 bps lower, fee 0.0101999898
    expect(sell).toMatchObject({ price: '101.999898', amount: '0.1', fee: '0.0101999898' });
    expect(r.metrics.total_fees_quote).toBe('0.0202099898');
    // (101.999898 − 100.1) × 0.1 − fees
    expect(r.metrics.net_pnl_quote).toBe('0.1697798102');
  });

  it('ends an executor whose order the balance cannot pay as INSUFFICIENT_BALANCE', () => {
    const r = runBacktest(spec({ opens: [{ ...long, amount: '1000' }], end: T0 + 2 * MIN }), columns([flat, flat, flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['INSUFFICIENT_BALANCE']);
    expect(r.fills).toEqual([]);
  });
});

describe('a perpetual market', () => {
  const perpEnv = { ...env, market: simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')! };
  const short = { at: T0, side: 'sell', amount: '0.1', stop_loss: 0.02, take_profit: 0.02 };
  const perpSpec = (over: Parameters<typeof spec>[0]) => spec({ connector: 'sim_perpetual', initial_balances: { base: '0', quote: '100' }, trade_cost: 0.001, ...over });

  it('shorts with no base to sell: margin from quote, the take profit realises the drop', () => {
    const r = runBacktest(perpSpec({ opens: [short], end: T0 + 2 * MIN }), columns([flat, [100, 101, 97, 97.5], flat]), null, perpEnv);
    expect(r.executors.map((e) => [e.side, e.closeType])).toEqual([['sell', 'TAKE_PROFIT']]);
    expect(r.fills.map((f) => [f.side, f.price, f.fee])).toEqual([
      ['sell', '100', '0.01'],
      ['buy', '98', '0.0098'],
    ]);
    // (100 − 98) × 0.1 − 0.0198; base never moves
    expect(r.metrics.net_pnl_quote).toBe('0.1802');
    expect(r.final_balances).toEqual({ base: '0', quote: '100.1802' });
    expect(r.series.position).toEqual([-0.1, 0, 0]);
  });

  it('the same short on spot with no base ends INSUFFICIENT_BALANCE', () => {
    const r = runBacktest(spec({ opens: [short], end: T0 + 2 * MIN, initial_balances: { base: '0', quote: '100' } }), columns([flat, [100, 101, 97, 97.5], flat]), null, env);
    expect(r.executors.map((e) => e.closeType)).toEqual(['INSUFFICIENT_BALANCE']);
  });

  it('marks an open position to each close in the PnL series and the net PnL', () => {
    const r = runBacktest(perpSpec({ opens: [{ ...short, stop_loss: 0.5, take_profit: 0.5 }], end: T0 + 2 * MIN }), columns([flat, [100, 100, 96, 96], [96, 96, 95, 95]]), null, perpEnv);
    expect(r.executors[0]!.status).toBe('active');
    // short 0.1 from 100, fee 0.01: at 96 up 0.4, at 95 up 0.5
    expect(r.series.pnl.map((x) => Number(x.toFixed(10)))).toEqual([-0.01, 0.39, 0.49]);
    expect(r.metrics.net_pnl_quote).toBe('0.49');
  });
});

describe('a run', () => {
  const rows: Row[] = Array.from({ length: 120 }, (_, i) => {
    const o = 100 + Math.sin(i / 5) * 3;
    const c = 100 + Math.sin((i + 1) / 5) * 3;
    return [o, Math.max(o, c) + 0.7, Math.min(o, c) - 0.6, c];
  });
  const opens = Array.from({ length: 10 }, (_, k) => ({ at: T0 + (5 + k * 11) * MIN, side: k % 2 ? 'sell' : 'buy', amount: '0.05', stop_loss: 0.01, take_profit: 0.012, time_limit: 600 }));
  const s = spec({ opens, end: T0 + 119 * MIN });

  it('is deterministic: the same inputs give the same JSON, byte for byte', () => {
    const a = JSON.stringify(runBacktest(s, columns(rows), null, env));
    const b = JSON.stringify(runBacktest(s, columns(rows), null, env));
    expect(a).toBe(b);
    const r = JSON.parse(a);
    expect(r.executors).toHaveLength(10);
    expect(r.series.pnl).toHaveLength(120);
  });

  it('counts each executor once in the metrics, whether its report was read before the run ended or not', () => {
    // A market maker reads its executors every step and stops unfilled ones to lay them again.
    const pmm = runBacktest(
      { ...s, controller: { name: 'pmm_simple', config: { total_amount_quote: '500', executor_refresh_time: 120 } } },
      columns(rows),
      null,
      { ...env, controller: () => pmmSimple },
    );
    for (const r of [pmm, runBacktest(s, columns(rows), null, env)]) {
      expect(r.metrics.total_executors).toBe(r.executors.length);
      const closed = r.executors.filter((e) => e.closeType !== null).length;
      expect(Object.values(r.metrics.close_types).reduce((a, b) => a + (b ?? 0), 0)).toBe(closed);
    }
    expect(pmm.executors.filter((e) => e.closeType === 'EARLY_STOP').length).toBeGreaterThan(5);
  });

  it('builds executors and series when first read, as plain values in their place: spread, keys and assignment behave as on a plain object', () => {
    const json = JSON.stringify(runBacktest(s, columns(rows), null, env));
    const r = runBacktest(s, columns(rows), null, env);
    const copy = { ...r };
    expect(Object.keys(copy)).toEqual(Object.keys(JSON.parse(json)));
    expect(Array.isArray(copy.series.time) && Array.isArray(copy.executors)).toBe(true);
    expect(JSON.stringify(copy)).toBe(json);
    expect(r.series).toBe(r.series);
    const other = runBacktest(s, columns(rows), null, env);
    other.series = { time: [], pnl: [], position: [], price: [] };
    other.executors = [];
    expect(other.series.time).toEqual([]);
    expect(Object.keys(other)).toEqual(Object.keys(copy));
  });

  it('never looks ahead: changing candles after t leaves everything up to t unchanged', () => {
    const t = 60;
    const full = runBacktest(s, columns(rows), null, env);
    const peeksFull = peeks.splice(0);
    const changed = rows.map((r, i): Row => (i > t ? [r[0] * 1.1, r[1] * 1.2, r[2] * 0.8, r[3] * 0.9] : r));
    const other = runBacktest(s, columns(changed), null, env);
    const cut = T0 + (t + 1) * MIN;
    expect(other.series.pnl.slice(0, t + 1)).toEqual(full.series.pnl.slice(0, t + 1));
    expect(other.series.position.slice(0, t + 1)).toEqual(full.series.position.slice(0, t + 1));
    expect(other.fills.filter((f) => f.timestamp <= cut)).toEqual(full.fills.filter((f) => f.timestamp <= cut));
    expect(other.executors.filter((e) => e.closedAt !== null && e.closedAt <= cut)).toEqual(full.executors.filter((e) => e.closedAt !== null && e.closedAt <= cut));
    expect(other.series.pnl).not.toEqual(full.series.pnl);
    // and the controller was never shown a candle that had not closed
    expect(peeksFull.length).toBeGreaterThan(100);
    for (const p of peeksFull) expect(p.newestClose === null || p.newestClose <= p.now).toBe(true);
  });

  it('reports gaps and walks over them without filling them in', () => {
    const withGaps: Array<Row | null> = rows.slice(0, 30).map((r, i) => (i >= 10 && i < 13) || i === 20 ? null : r);
    const r = runBacktest(spec({ end: T0 + 29 * MIN }), columns(withGaps), null, env);
    expect(r.gaps).toEqual([
      { from: '2024-01-01T00:10:00.000Z', to: '2024-01-01T00:12:00.000Z', candles: 3 },
      { from: '2024-01-01T00:20:00.000Z', to: '2024-01-01T00:20:00.000Z', candles: 1 },
    ]);
    expect(r.candles).toBe(26);
    expect(r.series.time).toHaveLength(26);
    expect(r.series.time).not.toContain(T0 + 11 * MIN);
  });

  it('reports a range with no candle as a gap', () => {
    const r = runBacktest(spec({ start: T0 + 200 * MIN, end: T0 + 204 * MIN }), columns(rows), null, env);
    expect(r.candles).toBe(0);
    expect(r.gaps).toEqual([{ from: '2024-01-01T03:20:00.000Z', to: '2024-01-01T03:24:00.000Z', candles: 5 }]);
    expect(r.metrics.net_pnl_quote).toBe('0');
  });

  it('reports progress and refuses a controller config for another market', () => {
    const seen: number[] = [];
    runBacktest(s, columns(rows), (done, total) => seen.push(done / total), env);
    expect(seen.at(-1)).toBe(1);
    expect(() => runBacktest(spec({ controller: { name: 'scripted_v1', config: { trading_pair: 'ETH-USDT' } } }), columns(rows), null, env)).toThrow(/ETH-USDT/);
    expect(() => runBacktest(spec({ controller: { name: 'nope_v1', config: {} } }), columns(rows), null, env)).toThrow(/nope_v1/);
  });
});
