import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import type { ScriptAction, ScriptView } from '../../../src/core/strategy/script.js';
import { holdings, portfolioRebalancerV1, PortfolioRebalancerConfig } from '../../../src/core/strategy/scripts/portfolio-rebalancer.js';
import { twapBuyerV1, TwapBuyerConfig } from '../../../src/core/strategy/scripts/twap-buyer.js';
import type { OrderUpdate, Quote } from '../../../src/core/strategy/types.js';

const d = (v: string | number) => new Decimal(v);

/** A view over fixed quotes and balances, with deterministic order ids. */
function view(now: number, quotes: Record<string, [number, number]>, balances: Record<string, string> = {}): ScriptView {
  let n = 0;
  return {
    now,
    market: {
      now,
      quote: (_c: string, pair: string): Quote | null => {
        const q = quotes[pair];
        return q ? { bid: d(q[0]), ask: d(q[1]), mid: d(q[0]).plus(q[1]).div(2) } : null;
      },
      candles: () => [],
      rules: () => null,
    },
    balances: () => Object.fromEntries(Object.entries(balances).map(([k, v]) => [k, d(v)])),
    newOrderId: () => `o${now}_${n++}`,
  };
}

const placed = (actions: ScriptAction[]) => actions.map((a) => (a.kind === 'place' ? { id: a.order.clientOrderId, pair: a.order.tradingPair, side: a.order.side, amount: a.order.amount.toString() } : null));

function filled(id: string, amount: string, price: string, fee = '0'): OrderUpdate {
  return { clientOrderId: id, state: 'filled', filled: d(amount), averagePrice: d(price), fees: d(fee), newFills: [], timestamp: 0 };
}

describe('twap_buyer_v1', () => {
  const config = TwapBuyerConfig.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '1000', duration: 3600, interval: 900 });
  const T0 = 1_700_000_000_000;
  const book = { 'BTC-USDT': [99.9, 100] as [number, number] };

  it('buys one slice of total / slices at each interval, sized at the ask', () => {
    const twap = twapBuyerV1.create(config);
    const first = twap.step(view(T0, book));
    expect(placed(first)).toEqual([{ id: `o${T0}_0`, pair: 'BTC-USDT', side: 'buy', amount: '2.5' }]);
    // Nothing more within the same slice, even with the order still in flight.
    expect(twap.step(view(T0 + 60_000, book))).toEqual([]);
    twap.onOrderUpdate(filled(`o${T0}_0`, '2.5', '100'));
    expect(twap.step(view(T0 + 899_000, book))).toEqual([]);
    expect(placed(twap.step(view(T0 + 900_000, book)))).toEqual([{ id: `o${T0 + 900_000}_0`, pair: 'BTC-USDT', side: 'buy', amount: '2.5' }]);
  });

  it('catches up missed slices once the price is back under max_price, and ends when all is bought', () => {
    const twap = twapBuyerV1.create(TwapBuyerConfig.parse({ ...config, max_price: '150' }));
    expect(twap.step(view(T0, { 'BTC-USDT': [159, 160] }))).toEqual([]);
    expect(twap.step(view(T0 + 1_800_000, { 'BTC-USDT': [159, 160] }))).toEqual([]);
    // Three slices are due at 30 min: 750 USDT at 125.
    const catchUp = twap.step(view(T0 + 1_800_000 + 1, { 'BTC-USDT': [124, 125] }));
    expect(placed(catchUp)).toEqual([{ id: `o${T0 + 1_800_001}_0`, pair: 'BTC-USDT', side: 'buy', amount: '6' }]);
    twap.onOrderUpdate(filled(`o${T0 + 1_800_001}_0`, '6', '125', '0.75'));
    expect(twap.done()).toBe(false);
    // After the window every remaining slice is due.
    const last = twap.step(view(T0 + 10_000_000, { 'BTC-USDT': [99, 100] }));
    expect(placed(last)).toEqual([{ id: `o${T0 + 10_000_000}_0`, pair: 'BTC-USDT', side: 'buy', amount: '2.5' }]);
    twap.onOrderUpdate(filled(`o${T0 + 10_000_000}_0`, '2.5', '100'));
    expect(twap.done()).toBe(true);
    expect(twap.state()).toMatchObject({ spent: '1000', fees: '0.75', pending: {} });
  });

  it('re-buys what a rejected slice did not, and resumes from its saved state', () => {
    const twap = twapBuyerV1.create(config);
    twap.step(view(T0, book));
    twap.onOrderUpdate({ clientOrderId: `o${T0}_0`, state: 'rejected', filled: d(0), averagePrice: null, fees: d(0), newFills: [], timestamp: 0, reason: 'insufficient balance' });
    const resumed = twapBuyerV1.create(config, JSON.parse(JSON.stringify(twap.state())));
    expect(placed(resumed.step(view(T0 + 1000, book)))).toEqual([{ id: `o${T0 + 1000}_0`, pair: 'BTC-USDT', side: 'buy', amount: '2.5' }]);
  });

  it('refuses a config whose slices are smaller than min_order_quote, and an interval beyond the duration', () => {
    const small = TwapBuyerConfig.safeParse({ ...config, total_amount_quote: '10', min_order_quote: '5' });
    expect(small.success).toBe(false);
    expect(small.error?.issues.map((i) => i.path.join('.'))).toEqual(['total_amount_quote']);
    const long = TwapBuyerConfig.safeParse({ ...config, interval: 7200 });
    expect(long.error?.issues.map((i) => i.path.join('.'))).toContain('interval');
  });
});

describe('portfolio_rebalancer_v1', () => {
  const config = PortfolioRebalancerConfig.parse({ connector_name: 'sim', target_weights: { BTC: '0.5', ETH: '0.3' }, threshold: 0.05 });
  const quotes = { 'BTC-USDT': [99, 101] as [number, number], 'ETH-USDT': [9.9, 10.1] as [number, number] };

  it('values holdings at the mid and gives the quote asset the remaining weight', () => {
    const h = holdings(config, view(0, quotes, { BTC: '6', ETH: '20', USDT: '200' }))!;
    expect(h.total.toString()).toBe('1000');
    expect(h.rows.map((r) => [r.asset, r.weight.toString(), r.target.toString()])).toEqual([
      ['BTC', '0.6', '0.5'],
      ['ETH', '0.2', '0.3'],
      ['USDT', '0.2', '0.2'],
    ]);
  });

  it('sells the overweight asset first, then buys the underweight one with the freed quote', () => {
    const bot = portfolioRebalancerV1.create(config);
    const sells = bot.step(view(0, quotes, { BTC: '6', ETH: '20', USDT: '200' }));
    expect(placed(sells)).toEqual([{ id: 'o0_0', pair: 'BTC-USDT', side: 'sell', amount: '1' }]);
    // While the sell is in flight nothing else is decided.
    expect(bot.step(view(1, quotes, { BTC: '6', ETH: '20', USDT: '200' }))).toEqual([]);
    bot.onOrderUpdate(filled('o0_0', '1', '100'));
    const buys = bot.step(view(2, quotes, { BTC: '5', ETH: '20', USDT: '300' }));
    expect(placed(buys)).toEqual([{ id: 'o2_0', pair: 'ETH-USDT', side: 'buy', amount: '10' }]);
    bot.onOrderUpdate(filled('o2_0', '10', '10'));
    expect(bot.step(view(3, quotes, { BTC: '5', ETH: '30', USDT: '200' }))).toEqual([]);
  });

  it('does nothing within the threshold, without a price, or for a difference under min_order_quote', () => {
    const bot = portfolioRebalancerV1.create(config);
    expect(bot.step(view(0, quotes, { BTC: '5.4', ETH: '28', USDT: '180' }))).toEqual([]);
    expect(bot.step(view(0, { 'BTC-USDT': [99, 101] }, { BTC: '9', USDT: '100' }))).toEqual([]);
    const tiny = portfolioRebalancerV1.create(PortfolioRebalancerConfig.parse({ ...config, min_order_quote: '200' }));
    expect(tiny.step(view(0, quotes, { BTC: '6', ETH: '20', USDT: '200' }))).toEqual([]);
  });

  it('buys with the quote balance when the target is all in one asset', () => {
    const bot = portfolioRebalancerV1.create(PortfolioRebalancerConfig.parse({ connector_name: 'sim', target_weights: { BTC: '1' } }));
    expect(placed(bot.step(view(0, quotes, { USDT: '1000' })))).toEqual([{ id: 'o0_0', pair: 'BTC-USDT', side: 'buy', amount: '10' }]);
  });

  it('refuses weights over 1 and the quote asset among them, naming the field', () => {
    const over = PortfolioRebalancerConfig.safeParse({ connector_name: 'sim', target_weights: { BTC: '0.7', ETH: '0.4' } });
    expect(over.error?.issues.map((i) => i.path.join('.'))).toEqual(['target_weights']);
    const quote = PortfolioRebalancerConfig.safeParse({ connector_name: 'sim', target_weights: { BTC: '0.5', USDT: '0.5' } });
    expect(quote.error?.issues.map((i) => i.path.join('.'))).toEqual(['target_weights']);
  });
});
