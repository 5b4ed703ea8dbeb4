import { describe, expect, it } from 'vitest';
import { GridExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { gridLevelCount } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import { ExecutorDesk, type DeskOptions } from '../../../helpers/executor-desk.js';
import { Decimal } from '../../../../src/core/decimal.js';
import type { TradingRules } from '../../../../src/core/exchange/types.js';

const MIN = 60_000;

// start 100, end 125, min spread 12.5% → 3 levels (100, 112.5, 125), 225 quote each → 2.25, 2, 1.8 base.
const BASE = { type: 'grid', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', start_price: '100', end_price: '125', total_amount_quote: '675', min_spread_between_orders: 0.125, take_profit: 0.02 };

function setup(cfg: Record<string, unknown>, desk: DeskOptions = {}) {
  const config = GridExecutorConfig.parse({ ...BASE, ...cfg });
  const d = new ExecutorDesk(desk);
  d.executor = createExecutor(config, 'grid-1', 0);
  return { d, e: d.executor };
}

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const rep = (d: ExecutorDesk) => plain(d.executor!.report(d.ctx));
const orders = (d: ExecutorDesk) => d.submitted.map((o) => [o.side, o.type, o.amount.toString(), o.price?.toString() ?? null]);

describe('grid executor', () => {
  it('level count: bounded by the spread and by the minimum order size', () => {
    expect(gridLevelCount(GridExecutorConfig.parse(BASE))).toBe(3);
    expect(gridLevelCount(GridExecutorConfig.parse({ ...BASE, min_order_amount_quote: '300' }))).toBe(2);
    expect(gridLevelCount(GridExecutorConfig.parse({ ...BASE, min_spread_between_orders: 0.3 }))).toBe(1);
  });

  it('long: buys below the price nearest first, each filled level takes profit and opens again', () => {
    const { d, e } = setup({}, { feeRate: '0.001' });
    d.tick(0, '130');
    expect(orders(d)).toEqual([
      ['buy', 'limit_maker', '1.8', '125'],
      ['buy', 'limit_maker', '2', '112.5'],
      ['buy', 'limit_maker', '2.25', '100'],
    ]);
    d.tick(MIN, '125').fill('o1');
    expect(orders(d)[3]).toEqual(['sell', 'limit_maker', '1.8', '127.5']);
    d.tick(2 * MIN, '127.5').fill('o4');
    expect(rep(d)).toMatchObject({ realizedPnl: '4.5', fees: '0.4545', volume: '454.5', netPnl: '4.0455', positionAmount: '0', custom: { round_trips: 1, holding_levels: 0 } });
    d.tick(3 * MIN, '127.5');
    expect(orders(d)[4]).toEqual(['buy', 'limit_maker', '1.8', '125']);
    expect(e.status).toBe('active');
  });

  it('max open orders and batch frequency limit what opens', () => {
    const a = setup({ max_open_orders: 2 });
    a.d.tick(0, '130');
    expect(orders(a.d).map((o) => o[3])).toEqual(['125', '112.5']);
    a.d.tick(MIN, '125').fill('o1');
    a.d.tick(2 * MIN, '124');
    expect(orders(a.d).map((o) => o[3])).toEqual(['125', '112.5', '127.5', '100']);

    const b = setup({ max_orders_per_batch: 1, order_frequency: 60 });
    b.d.run([[0, '130'], [30_000, '130']]);
    expect(b.d.submitted).toHaveLength(1);
    b.d.tick(60_000, '130');
    expect(orders(b.d).map((o) => o[3])).toEqual(['125', '112.5']);
  });

  it('activation bounds: only levels near the price open; an unfilled order left behind is cancelled', () => {
    const { d } = setup({ activation_bounds: 0.05 });
    d.tick(0, '130');
    expect(orders(d).map((o) => o[3])).toEqual(['125']);
    d.tick(MIN, '140');
    expect(d.cancels).toEqual(['o1']);
    d.tick(2 * MIN, '118');
    expect(orders(d).map((o) => o[3])).toEqual(['125', '112.5']);
  });

  it('the limit price stops a long grid: orders cancelled, holdings sold at market (or kept with keep_position)', () => {
    const a = setup({ limit_price: '95' });
    a.d.tick(0, '101').fill('o1');
    expect(orders(a.d)).toEqual([
      ['buy', 'limit_maker', '2.25', '100'],
      ['sell', 'limit_maker', '2.25', '102'],
    ]);
    a.d.tick(MIN, '95');
    expect(a.e.status).toBe('active');
    a.d.tick(2 * MIN, '94.9');
    expect([a.e.closeType, a.d.cancels]).toEqual(['STOP_LOSS', ['o2']]);
    expect(orders(a.d)[2]).toEqual(['sell', 'market', '2.25', null]);
    expect(rep(a.d).realizedPnl).toBe('-11.475');

    const b = setup({ limit_price: '95', keep_position: true });
    b.d.tick(0, '101').fill('o1');
    b.d.tick(MIN, '94.9');
    expect([b.e.closeType, b.e.status, b.d.submitted.length]).toEqual(['STOP_LOSS', 'terminated', 2]);
    expect(rep(b.d).positionAmount).toBe('2.25');
  });

  it('short: sells above the price, takes profit below', () => {
    const { d } = setup({ side: 'sell' });
    d.tick(0, '95');
    expect(orders(d).map((o) => [o[0], o[3]])).toEqual([
      ['sell', '100'],
      ['sell', '112.5'],
      ['sell', '125'],
    ]);
    d.tick(MIN, '100').fill('o1');
    expect(orders(d)[3]).toEqual(['buy', 'limit_maker', '2.25', '98']);
    d.tick(2 * MIN, '98').fill('o4');
    expect(rep(d)).toMatchObject({ realizedPnl: '4.5', positionAmount: '0' });
  });

  it('a rejected first order ends the grid INSUFFICIENT_BALANCE', () => {
    const { d, e } = setup({});
    d.tick(0, '130').reject('o1', 'INSUFFICIENT_BALANCE');
    expect([e.closeType, e.status, d.cancels]).toEqual(['INSUFFICIENT_BALANCE', 'terminated', ['o2', 'o3']]);
  });

  it('time limit closes what is held; restored mid-run it continues as the uninterrupted run', () => {
    const script = (d: ExecutorDesk, from: number, to: number) => {
      const steps: Array<() => void> = [
        () => d.tick(0, '130'),
        () => d.tick(MIN, '125').fill('o1'),
        () => d.tick(2 * MIN, '112').fill('o2'),
        () => d.tick(3 * MIN, '127.5').fill('o4'),
        () => d.tick(4 * MIN, '126'),
        () => d.tick(5 * MIN, '120'),
      ];
      for (const s of steps.slice(from, to)) s();
    };
    const whole = setup({ time_limit: 300 }, { feeRate: '0.001' });
    script(whole.d, 0, 6);
    expect(whole.e.closeType).toBe('TIME_LIMIT');
    // 1.8 @125 and 2 @112.5 average 118.421…; the 1.8 sold at 127.5 realizes against that average,
    // the 2 left close at 120: total = 1.8 × 127.5 + 2 × 120 − 225 − 225 = 19.5
    expect(rep(whole.d).realizedPnl).toBe('19.5');
    const cut = setup({ time_limit: 300 }, { feeRate: '0.001' });
    script(cut.d, 0, 3);
    cut.d.executor = restoreExecutor(JSON.parse(JSON.stringify(cut.e.state())));
    script(cut.d, 3, 6);
    expect(plain(cut.d.submitted)).toEqual(plain(whole.d.submitted));
    expect(rep(cut.d)).toEqual(rep(whole.d));
  });
  it('idle band: above the limit price, inside the bounds of its opening orders, outside idle levels’ windows; until the next batch', () => {
    // Levels 100, 112.5, 125; bounds 5%: level 125 opens when 125 / 1.05 ≤ mid ≤ 125 / 0.95 (and mid ≥ 125, past the spread).
    const { d, e } = setup({ limit_price: '95', activation_bounds: 0.05, max_orders_per_batch: 1, order_frequency: 60 });
    expect(e.idleBand!()).toBeNull();
    d.tick(0, '140');
    expect(d.submitted).toHaveLength(0);
    const far = e.idleBand!()!;
    // nothing in its window at 140: wake falling to 125 / 0.95 (level 125 comes into bounds); the stop at 95 lies below
    expect(far.high).toBe(Infinity);
    expect(far.low).toBeCloseTo(125 / 0.95, 9);
    expect(far.low).toBeGreaterThan(125 / 0.95);
    d.tick(MIN, '128');
    expect(orders(d)).toEqual([['buy', 'limit_maker', '1.8', '125']]);
    const near = e.idleBand!()!;
    // the opening order at 125 is cancelled once mid leaves [125 / 1.05, 125 / 0.95] (119.05 to 131.58);
    // level 112.5 comes into its window lower, from 112.5 / 0.95 = 118.42
    expect(near.high).toBeCloseTo(125 / 0.95, 9);
    expect(near.low).toBeCloseTo(125 / 1.05, 9);
    expect(near.until).toBe(Infinity);
    d.tick(MIN + 1000, '118.5');
    // below 119.05 the order at 125 is cancelled; 118.5 is above 118.42, so 112.5 is not yet in its window
    expect(d.cancels).toEqual(['o1']);
    expect(d.submitted).toHaveLength(1);
    d.tick(MIN + 2000, '118.4');
    // 112.5 is in its window now, but the batch of 60 s that placed 125 at MIN is not over: quiet until then
    expect(d.submitted).toHaveLength(1);
    expect(e.idleBand!()!.until).toBe(2 * MIN);
    d.tick(2 * MIN, '118.4');
    expect(orders(d)[1]).toEqual(['buy', 'limit_maker', '2', '112.5']);
    const s = setup({ limit_price: '95' });
    s.d.tick(0, '96');
    // at 96 no level is below the mid: quiet up to where 100 is (safe spread 0.0001) and down to the stop
    // at 95 (mid strictly below), at the exact double
    const stop = s.e.idleBand!()!;
    expect(stop.low).toBe(94.99999999999999);
    expect(stop.high).toBeCloseTo(100 / 0.9999, 9);
    expect(stop.high).toBeLessThan(100 / 0.9999);
  });

  it('sized to the market’s rules: amounts floored to the step, fewer levels when the minimum size needs it', () => {
    const rules = (r: Partial<TradingRules>): TradingRules => ({ min_order_size: null, max_order_size: null, min_price_increment: null, min_base_amount_increment: null, min_notional_size: null, max_leverage: null, supported_order_types: ['limit_maker'], ...r });
    const a = setup({}, { rules: rules({ min_base_amount_increment: '0.5', min_notional_size: '5' }) });
    a.d.tick(0, '130');
    expect(orders(a.d)).toEqual([
      ['buy', 'limit_maker', '1.5', '125'],
      ['buy', 'limit_maker', '2', '112.5'],
      ['buy', 'limit_maker', '2', '100'],
    ]);
    // A size of 2 at 125 needs 250 quote a level: 675 funds two levels (100 and 125) of 337.5.
    const b = setup({}, { rules: rules({ min_order_size: '2', min_base_amount_increment: '1' }) });
    b.d.tick(0, '130');
    expect(orders(b.d)).toEqual([
      ['buy', 'limit_maker', '2', '125'],
      ['buy', 'limit_maker', '3', '100'],
    ]);
    expect(rep(b.d).custom).toMatchObject({ levels: ['100', '125'], level_amounts: ['3', '2'], amount_per_level_quote: '337.5' });

    // Laid once: a restored grid keeps its levels whatever the rules say now.
    const state = JSON.parse(JSON.stringify(b.e.state()));
    const c = new ExecutorDesk({ rules: rules({}) }).continueFrom(b.d);
    c.executor = restoreExecutor(state);
    c.tick(MIN, '124').fill('o1');
    expect(c.last()).toMatchObject({ side: 'sell', amount: new Decimal('2') });
    expect(rep(c).custom).toMatchObject({ levels: ['100', '125'], level_amounts: ['3', '2'] });
  });

  it('a budget the rules cannot size ends the grid FAILED at once, saying why', () => {
    const { d, e } = setup({ total_amount_quote: '100' }, { rules: { min_order_size: '2', max_order_size: null, min_price_increment: null, min_base_amount_increment: '1', min_notional_size: null, max_leverage: null, supported_order_types: ['limit_maker'] } });
    d.tick(0, '130');
    expect([e.status, e.closeType, d.submitted.length]).toEqual(['terminated', 'FAILED', 0]);
    expect(rep(d).custom.first_refusal).toEqual({
      code: 'VALIDATION_FAILED',
      reason: "total_amount_quote 100 cannot fund one grid level: under the market's rules (minimum size 2, amount step 1, minimum notional none) a level needs 200 quote.",
    });
  });

  it('a take profit the venue keeps refusing is sent three times, then its level is left out (not resent every tick)', () => {
    const { d, e } = setup({ side: 'sell' });
    d.tick(0, '95');
    d.tick(MIN, '100').fill('o1');
    expect(d.last()).toMatchObject({ clientOrderId: 'o4', side: 'buy' });
    d.reject('o4', 'VALIDATION_FAILED');
    d.tick(2 * MIN, '100');
    d.reject('o5', 'VALIDATION_FAILED');
    d.tick(3 * MIN, '100');
    d.reject('o6', 'VALIDATION_FAILED');
    d.tick(4 * MIN, '100');
    d.tick(5 * MIN, '100');
    expect(d.submitted.map((o) => o.clientOrderId)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5', 'o6']);
    expect(rep(d).custom).toMatchObject({ failed_levels: 1, holding_levels: 0 });
    // What it sold stays in the grid's position, bought back when the grid ends.
    expect(rep(d).positionAmount).toBe('2.25');
    d.executor!.stop(d.ctx, false);
    expect(orders(d).at(-1)).toEqual(['buy', 'market', '2.25', null]);
    expect(e.status).toBe('terminated');
  });

  it('a state saved before levels were kept restores with the levels the config alone lays', () => {
    const { d, e } = setup({});
    d.tick(0, '130').fill('o2');
    const state = JSON.parse(JSON.stringify(e.state()));
    for (const l of state.levels) {
      delete l.price;
      delete l.amount;
    }
    const r = new ExecutorDesk().continueFrom(d);
    r.executor = restoreExecutor(state);
    r.tick(MIN, '130').fill('o1');
    expect(rep(r).custom).toMatchObject({ levels: ['100', '112.5', '125'], level_amounts: ['2.25', '2', '1.8'], holding_levels: 2 });
    // Level 125's 1.8 filled: its take profit sells what it holds.
    expect(orders(r)).toEqual([['sell', 'limit_maker', '1.8', '130.013']]);
  });
});
