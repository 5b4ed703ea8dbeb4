import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { TradingRules } from '../../src/core/exchange/types.js';
import { LiveMarketView, type MarketSource } from '../../src/core/executors/live-market.js';

const rulesWith = (step: string): TradingRules => ({ min_order_size: step, max_order_size: null, min_price_increment: '0.1', min_base_amount_increment: step, min_notional_size: '5', max_leverage: null, supported_order_types: ['market', 'limit'] });

/** A market source whose rules answer is set by the test, counting the reads. */
class Source implements MarketSource {
  reads = 0;
  answer: TradingRules | null | Error = rulesWith('0.001');
  async orderBook() {
    return { bids: [{ price: 100 }], asks: [{ price: 101 }] };
  }
  async candles() {
    return [];
  }
  async rules() {
    this.reads += 1;
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

describe('live market view: trading rules', () => {
  it('a first read that fails fails the load (no grid is laid without the rules); it is tried again at the next', async () => {
    const source = new Source();
    source.answer = new Error('exchange unreachable');
    const view = new LiveMarketView(source, new ManualClock(1_000_000));
    const pairs = [{ connector: 'sim_perpetual', pair: 'BTC-USDT' }];
    await expect(view.load(pairs)).rejects.toThrow('exchange unreachable');
    expect(view.rules('sim_perpetual', 'BTC-USDT')).toBeNull();
    source.answer = rulesWith('0.001');
    await view.load(pairs);
    expect([source.reads, view.rules('sim_perpetual', 'BTC-USDT')?.min_base_amount_increment]).toEqual([2, '0.001']);
  });

  it('reads a pair’s rules with its first load, keeps them an hour, and a later failed read neither fails the load nor loses them', async () => {
    const clock = new ManualClock(1_000_000);
    const source = new Source();
    const view = new LiveMarketView(source, clock);
    const pairs = [{ connector: 'sim_perpetual', pair: 'BTC-USDT' }];
    expect(view.rules('sim_perpetual', 'BTC-USDT')).toBeNull();
    await view.load(pairs);
    expect(view.rules('sim_perpetual', 'BTC-USDT')).toEqual(rulesWith('0.001'));
    expect(view.rules('sim', 'BTC-USDT')).toBeNull();
    clock.advance(30 * 60_000);
    source.answer = rulesWith('0.01');
    await view.load(pairs);
    expect([source.reads, view.rules('sim_perpetual', 'BTC-USDT')?.min_base_amount_increment]).toEqual([1, '0.001']);
    clock.advance(31 * 60_000);
    source.answer = new Error('exchange unreachable');
    await view.load(pairs);
    expect(view.quote('sim_perpetual', 'BTC-USDT')?.mid.toString()).toBe('100.5');
    expect([source.reads, view.rules('sim_perpetual', 'BTC-USDT')?.min_base_amount_increment]).toEqual([2, '0.001']);
    source.answer = rulesWith('0.01');
    await view.load(pairs);
    expect([source.reads, view.rules('sim_perpetual', 'BTC-USDT')?.min_base_amount_increment]).toEqual([3, '0.01']);
  });
});
