import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../../../src/core/decimal.js';
import type { TradingRules } from '../../../../src/core/exchange/types.js';
import { simMarkets } from '../../../../src/core/exchange/sim/markets.js';
import { GridExecutorConfig, gridLevelCount } from '../../../../src/core/strategy/executors/configs.js';
import { planGrid } from '../../../../src/core/strategy/executors/grid-levels.js';

const perpBtc = simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')!.rules;
const config = (c: Record<string, unknown>) =>
  GridExecutorConfig.parse({ type: 'grid', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', start_price: '60000', end_price: '66000', total_amount_quote: '1000', min_spread_between_orders: 0.001, ...c });
const rules = (r: Partial<TradingRules>): TradingRules => ({
  min_order_size: null,
  max_order_size: null,
  min_price_increment: null,
  min_base_amount_increment: null,
  min_notional_size: null,
  max_leverage: null,
  supported_order_types: ['market', 'limit', 'limit_maker'],
  ...r,
});
const levelsOf = (plan: ReturnType<typeof planGrid>) => {
  if ('refusal' in plan) throw new Error(plan.refusal);
  return plan.levels.map((l) => [l.price.toString(), l.amount.toString()]);
};

/** Whether a level's order clears the rules as the venues check them. */
function clears(l: { price: Decimal; amount: Decimal }, r: TradingRules): boolean {
  const step = r.min_base_amount_increment ? new Decimal(r.min_base_amount_increment) : null;
  if (step && !l.amount.mod(step).isZero()) return false;
  if (step && l.amount.lt(step)) return false;
  if (r.min_order_size && l.amount.lt(r.min_order_size)) return false;
  return !(r.min_notional_size && l.amount.times(l.price).lt(r.min_notional_size));
}

describe('grid levels', () => {
  it('without rules: the config count, each level its quote at its price', () => {
    const c = config({ start_price: '100', end_price: '125', total_amount_quote: '675', min_spread_between_orders: 0.125 });
    expect(levelsOf(planGrid(c, null))).toEqual([
      ['100', '2.25'],
      ['112.5', '2'],
      ['125', '1.8'],
    ]);
  });

  it('a perpetual BTC grid of 1000 quote: 15 levels of one 0.001 step, not 101 levels the venue refuses', () => {
    const c = config({});
    // Config alone: 10% range / 0.1% spread → 101 levels of 9.9 quote, 0.000165 BTC at 60000: below the 0.001 step.
    expect(gridLevelCount(c)).toBe(101);
    const plan = planGrid(c, perpBtc);
    const levels = levelsOf(plan);
    // A level at 66000 needs 0.001 × 66000 = 66 quote: 1000 / 66 → 15 levels of 66.67 quote.
    expect(levels).toHaveLength(15);
    expect(levels[0]).toEqual(['60000', '0.001']);
    expect(levels[14]).toEqual(['66000', '0.001']);
    expect('levels' in plan && plan.levels.every((l) => clears(l, perpBtc))).toBe(true);
  });

  it('levels are at least one tick apart, as a fraction of start_price', () => {
    const c = config({ start_price: '100', end_price: '110', total_amount_quote: '100000', min_spread_between_orders: 0.001 });
    expect(gridLevelCount(c)).toBe(101);
    // tick 1 at 100 is 1%: 10% / 1% + 1 = 11 levels
    expect(levelsOf(planGrid(c, rules({ min_price_increment: '1' })))).toHaveLength(11);
  });

  it('the minimum notional at each level’s own price, rounded up to the step, bounds the count', () => {
    // Levels 10..20; at 10 a 5-quote notional needs 0.5 base, at 20 0.25: with step 0.3, 0.6 × 10 = 6 and 0.3 × 20 = 6 (0.3 × 20 = 6 ≥ 5).
    const c = config({ start_price: '10', end_price: '20', total_amount_quote: '61', min_spread_between_orders: 0.01, min_order_amount_quote: '1' });
    const r = rules({ min_base_amount_increment: '0.3', min_notional_size: '5' });
    const plan = planGrid(c, r);
    expect('levels' in plan && plan.levels.every((l) => clears(l, r))).toBe(true);
    expect(levelsOf(plan).length).toBeGreaterThan(1);
  });

  it('a budget that cannot fund one level is refused, saying what a level needs', () => {
    const plan = planGrid(config({ total_amount_quote: '50' }), perpBtc);
    if (!('refusal' in plan)) throw new Error('laid a grid');
    expect(plan.refusal).toBe('total_amount_quote 50 cannot fund one grid level: under the market\'s rules (minimum size 0.001, amount step 0.001, minimum notional 5) a level needs 60 quote.');
    // One level, at start_price: 0.001 × 60000.
    expect(plan.need.toString()).toBe('60');
  });

  it('a short grid is sized so its take profit, which buys back lower, still clears the minimum notional', () => {
    const r = rules({ min_base_amount_increment: '0.001', min_notional_size: '10' });
    const short = (total: string) => planGrid(config({ side: 'sell', start_price: '100', end_price: '110', total_amount_quote: total, min_spread_between_orders: 0.5, take_profit: 0.01 }), r);
    // 0.1 at 100 is worth 10, but its take profit, 0.1 at 99, only 9.9: a level needs 0.102 (10.2 quote).
    expect(short('10')).toMatchObject({ refusal: expect.stringContaining('a level needs 10.2 quote') });
    expect(levelsOf(short('11'))).toEqual([['100', '0.11']]);
    // A long grid sells its take profit higher: 10 funds the level.
    expect(levelsOf(planGrid(config({ start_price: '100', end_price: '110', total_amount_quote: '10', min_spread_between_orders: 0.5 }), r))).toEqual([['100', '0.1']]);
  });

  it('an amount above the maximum order size is cut to it; a config of a million levels lays 1,000 at most, at once', () => {
    const r = rules({ min_base_amount_increment: '0.01', max_order_size: '10.005' });
    expect(levelsOf(planGrid(config({ start_price: '100', end_price: '110', total_amount_quote: '100000', min_spread_between_orders: 0.05 }), r)).map(([, a]) => a)).toEqual(['10', '10', '10']);
    // Not a valid executor config (more than 1,000 levels): planGrid still bounds its work.
    const huge = { side: 'buy' as const, start_price: '100', end_price: '200', total_amount_quote: '10000000', min_spread_between_orders: 1e-6, min_order_amount_quote: '1', take_profit: 0.001 };
    expect(levelsOf(planGrid(huge, null))).toHaveLength(1000);
    expect(levelsOf(planGrid(huge, rules({ min_price_increment: '0.0001' })))).toHaveLength(1000);
  });

  it('with no amount step the need is never a hair under the minimum notional', () => {
    const plan = planGrid(config({ start_price: '3', end_price: '3.3', total_amount_quote: '5', min_spread_between_orders: 0.5, min_order_amount_quote: '1' }), rules({ min_notional_size: '10' }));
    expect('need' in plan && plan.need.gte(10)).toBe(true);
    const funded = planGrid(config({ start_price: '3', end_price: '3.3', total_amount_quote: '10', min_spread_between_orders: 0.5, min_order_amount_quote: '1' }), rules({ min_notional_size: '10' }));
    expect('levels' in funded && funded.levels.every((l) => l.amount.times(l.price).gte(10))).toBe(true);
  });

  it('property: every level laid clears the rules, and there are at least one and at most the config count', () => {
    const decimalText = (digits: number) => fc.integer({ min: 1, max: 9 }).map((m) => new Decimal(m).times(new Decimal(10).pow(-digits)).toString());
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 50, max: 500_000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.option(decimalText(3)),
        fc.option(fc.integer({ min: 0, max: 6 }).chain(decimalText)),
        fc.option(fc.integer({ min: 0, max: 6 }).chain(decimalText)),
        fc.option(fc.integer({ min: 1, max: 20 }).map(String)),
        fc.boolean(),
        (start, rangePct, total, spreadBp, tick, step, minSize, minNotional, short) => {
          const end = new Decimal(start).times(1 + rangePct / 100).toString();
          const side = short ? 'sell' : 'buy';
          const parsed = GridExecutorConfig.safeParse({ ...config({}), side, start_price: String(start), end_price: end, total_amount_quote: String(total), min_spread_between_orders: spreadBp / 10_000, min_order_amount_quote: '1' });
          // Configs of more than 1,000 levels are refused before any grid is laid.
          if (!parsed.success) return;
          const c = parsed.data;
          const r = rules({ min_price_increment: tick, min_base_amount_increment: step, min_order_size: minSize, min_notional_size: minNotional });
          const plan = planGrid(c, r);
          if ('refusal' in plan) {
            expect(plan.refusal).toContain('cannot fund one grid level');
            return;
          }
          expect(plan.levels.length).toBeGreaterThanOrEqual(1);
          expect(plan.levels.length).toBeLessThanOrEqual(gridLevelCount(c));
          for (const l of plan.levels) expect(clears(l, r), `${l.amount} at ${l.price}`).toBe(true);
          // A short grid's take profit: the same amount bought back at price × (1 − take_profit), floored to the tick.
          if (short && minNotional) {
            for (const l of plan.levels) {
              const exit = l.price.times(1 - c.take_profit);
              const floored = tick ? exit.div(tick).floor().times(tick) : exit;
              expect(l.amount.times(floored).gte(minNotional), `exit of ${l.amount} at ${l.price}`).toBe(true);
            }
          }
          // On the tick, and apart.
          if (tick) for (const l of plan.levels) expect(l.price.mod(tick).isZero(), l.price.toString()).toBe(true);
          for (let i = 1; i < plan.levels.length; i++) expect(plan.levels[i]!.price.gt(plan.levels[i - 1]!.price)).toBe(true);
          // Inside the range (a single level may sit on the tick nearest start when no multiple lies inside).
          // Without a tick, the last of n evenly spaced prices may be end plus a 60-digit rounding.
          const slack = new Decimal(end).times('1e-50');
          if (plan.levels.length > 1) for (const l of plan.levels) expect(l.price.gte(start) && l.price.lte(slack.plus(end)), l.price.toString()).toBe(true);
          // Never more quote than the budget (a 60-digit division may leave the last digit over).
          expect(plan.levels.reduce((s, l) => s.plus(l.amount.times(l.price)), new Decimal(0)).lte(new Decimal(total).times('1.000000000000000000000000000001'))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
