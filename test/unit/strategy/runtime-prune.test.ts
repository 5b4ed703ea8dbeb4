import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import { ExecutorConfig } from '../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../src/core/strategy/executors/registry.js';
import { StrategyRuntime, type RuntimeState } from '../../../src/core/strategy/runtime.js';
import type { ControllerInstance, ExecutorReport, MarketView, OrderRequest, OrderSink } from '../../../src/core/strategy/types.js';

/**
 * A runtime that runs for long keeps only its latest ended executors one by one (pruneEnded); the
 * dropped ones live on as a sum, so PnL, volume, fees and close types add up to exactly what a runtime
 * that kept everything reports, also across a save and restore.
 */

const MIN = 60_000;
/** A zig-zag of ±1.2% around 100: every executor hits its 0.5% take profit or stop loss within a few steps. */
const price = (i: number) => 100 * (1 + 0.012 * Math.sin(i / 2.3));

/** A long every minute, and a short every third, each with tight barriers. */
const controller = (): ControllerInstance => ({
  update: (view) => {
    const m = Math.floor(view.now / MIN);
    const make = (side: 'buy' | 'sell') => ({ kind: 'create' as const, config: ExecutorConfig.parse({ type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side, amount: '0.1', triple_barrier: { stop_loss: 0.005, take_profit: 0.005 } }) });
    return m % 3 === 0 ? [make('buy'), make('sell')] : [make('buy')];
  },
});

function venue(runtime: () => StrategyRuntime) {
  let p = 0;
  const orders: OrderRequest[] = [];
  const sink: OrderSink = {
    submit(o) {
      orders.push(o);
      const px = new Decimal(p);
      const fee = px.times(o.amount).times('0.001');
      runtime().deliver({ clientOrderId: o.clientOrderId, state: 'filled', filled: o.amount, averagePrice: px, fees: fee, newFills: [{ price: px, amount: o.amount, fee, isMaker: false, timestamp: 0 }], timestamp: 0 });
    },
    cancel() {},
  };
  return { sink, orders, setPrice: (x: number) => (p = x) };
}

function run(rt: StrategyRuntime, v: ReturnType<typeof venue>, from: number, to: number, keep?: number, dropped?: string[]) {
  for (let i = from; i < to; i++) {
    const p = Number(price(i).toFixed(4));
    v.setPrice(p);
    const q = { bid: new Decimal(p), ask: new Decimal(p), mid: new Decimal(p) };
    const market: MarketView = { now: i * MIN, quote: () => q, candles: () => [], rules: () => null };
    rt.step({ now: i * MIN, market, sink: v.sink });
    if (keep !== undefined) {
      const ids = rt.pruneEnded(keep);
      dropped?.push(...ids);
    }
  }
}

function totals(reports: ExecutorReport[], pruned?: ReturnType<StrategyRuntime['prunedTotals']>) {
  let volume = pruned?.volume ?? new Decimal(0);
  let fees = pruned?.fees ?? new Decimal(0);
  let realized = pruned?.realizedPnl ?? new Decimal(0);
  let net = pruned?.netPnl ?? new Decimal(0);
  const closeTypes: Record<string, number> = { ...(pruned?.closeTypes ?? {}) };
  for (const r of reports) {
    volume = volume.plus(r.volume);
    fees = fees.plus(r.fees);
    realized = realized.plus(r.realizedPnl);
    net = net.plus(r.netPnl);
    if (r.closeType) closeTypes[r.closeType] = (closeTypes[r.closeType] ?? 0) + 1;
  }
  return { count: reports.length + (pruned?.count ?? 0), volume: volume.toString(), fees: fees.toString(), realized: realized.toString(), net: net.toString(), closeTypes };
}

const options = () => ({ controller: controller(), interval: '1m' as const, createExecutor, idPrefix: 'p-' });
const STEPS = 600;
const KEEP = 40;

describe('pruning the ended executors of a long run', () => {
  it('keeps the latest ones, and its sums equal those of a runtime that kept everything', () => {
    let whole!: StrategyRuntime;
    const wv = venue(() => whole);
    whole = new StrategyRuntime(options());
    run(whole, wv, 0, STEPS);

    let pruned!: StrategyRuntime;
    const pv = venue(() => pruned);
    pruned = new StrategyRuntime(options());
    const dropped: string[] = [];
    run(pruned, pv, 0, STEPS, KEEP, dropped);

    const all = whole.allReports();
    expect(all.length).toBe(800);
    const kept = pruned.allReports();
    // Bounded: the kept ended ones stay within keep plus the slack before the next prune.
    const ended = kept.filter((r) => r.status === 'terminated').length;
    expect(ended).toBeGreaterThanOrEqual(KEEP);
    expect(ended).toBeLessThanOrEqual(KEEP + 16 + 3);
    expect(pruned.prunedTotals().count).toBe(dropped.length);
    expect(dropped.length).toBeGreaterThan(600);
    // The same decisions and orders: pruning changes nothing the executors or the controller do.
    expect(pv.orders.map((o) => o.clientOrderId)).toEqual(wv.orders.map((o) => o.clientOrderId));
    // The kept ones are the latest, in creation order, with the same reports.
    expect(JSON.parse(JSON.stringify(kept))).toEqual(JSON.parse(JSON.stringify(all.slice(all.length - kept.length))));
    expect(new Set(dropped)).toEqual(new Set(all.slice(0, all.length - kept.length).map((r) => r.id)));
    // Both barriers were hit, and the sums agree to the last digit.
    expect(Object.keys(totals(all).closeTypes).sort()).toEqual(['STOP_LOSS', 'TAKE_PROFIT']);
    expect(totals(kept, pruned.prunedTotals())).toEqual(totals(all));
  });

  it('carries the sums through a save and restore', () => {
    let whole!: StrategyRuntime;
    const wv = venue(() => whole);
    whole = new StrategyRuntime(options());
    run(whole, wv, 0, STEPS);

    let first!: StrategyRuntime;
    const fv = venue(() => first);
    first = new StrategyRuntime(options());
    run(first, fv, 0, 333, KEEP);
    const saved = JSON.parse(JSON.stringify(first.state())) as RuntimeState;
    expect(saved.pruned?.count).toBeGreaterThan(0);
    expect(saved.executors.length).toBeLessThan(KEEP + 40);

    let second!: StrategyRuntime;
    const sv = venue(() => second);
    second = StrategyRuntime.restore(options(), saved, restoreExecutor);
    run(second, sv, 333, STEPS, KEEP);
    expect(totals(second.allReports(), second.prunedTotals())).toEqual(totals(whole.allReports()));
  });

  it('does nothing for a runtime that is never asked to prune (a backtest)', () => {
    let rt!: StrategyRuntime;
    const v = venue(() => rt);
    rt = new StrategyRuntime(options());
    run(rt, v, 0, 100);
    expect(rt.allReports()).toHaveLength(134);
    expect(rt.prunedTotals().count).toBe(0);
    expect(rt.state().pruned).toBeUndefined();
  });
});
