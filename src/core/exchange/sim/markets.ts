import type { Market, MarketType } from '../types.js';

/**
 * The built-in synthetic exchange's listings. Rules follow what large exchanges publish for these
 * pairs (tick sizes, lot steps, a 5 USDT minimum notional), so quantisation and minimum checks behave
 * as they would live. `start_price` and `volatility` (annualised) seed the price process.
 */
export interface SimListing {
  base: string;
  quote: string;
  market_type: MarketType;
  tick: string;
  step: string;
  min_size: string;
  max_size: string;
  min_notional: string;
  max_leverage: number | null;
  start_price: number;
  volatility: number;
  /** Quote value resting at each order-book level near the touch. */
  level_notional: number;
}

export const SIM_LISTINGS: readonly SimListing[] = [
  { base: 'BTC', quote: 'USDT', market_type: 'spot', tick: '0.01', step: '0.00001', min_size: '0.00001', max_size: '9000', min_notional: '5', max_leverage: null, start_price: 65000, volatility: 0.55, level_notional: 60000 },
  { base: 'ETH', quote: 'USDT', market_type: 'spot', tick: '0.01', step: '0.0001', min_size: '0.0001', max_size: '90000', min_notional: '5', max_leverage: null, start_price: 3200, volatility: 0.7, level_notional: 40000 },
  { base: 'SOL', quote: 'USDT', market_type: 'spot', tick: '0.01', step: '0.001', min_size: '0.001', max_size: '900000', min_notional: '5', max_leverage: null, start_price: 150, volatility: 0.9, level_notional: 20000 },
  { base: 'ETH', quote: 'BTC', market_type: 'spot', tick: '0.00001', step: '0.0001', min_size: '0.0001', max_size: '100000', min_notional: '0.0001', max_leverage: null, start_price: 0.05, volatility: 0.45, level_notional: 0.8 },
  { base: 'BTC', quote: 'USDT', market_type: 'perpetual', tick: '0.1', step: '0.001', min_size: '0.001', max_size: '1000', min_notional: '5', max_leverage: 125, start_price: 65000, volatility: 0.55, level_notional: 60000 },
  { base: 'ETH', quote: 'USDT', market_type: 'perpetual', tick: '0.01', step: '0.001', min_size: '0.001', max_size: '10000', min_notional: '5', max_leverage: 100, start_price: 3200, volatility: 0.7, level_notional: 40000 },
  { base: 'SOL', quote: 'USDT', market_type: 'perpetual', tick: '0.01', step: '0.1', min_size: '0.1', max_size: '100000', min_notional: '5', max_leverage: 50, start_price: 150, volatility: 0.9, level_notional: 20000 },
];

export function simMarkets(marketType: MarketType): Market[] {
  return SIM_LISTINGS.filter((l) => l.market_type === marketType).map((l) => ({
    trading_pair: `${l.base}-${l.quote}`,
    base: l.base,
    quote: l.quote,
    market_type: l.market_type,
    active: true,
    rules: {
      min_order_size: l.min_size,
      max_order_size: l.max_size,
      min_price_increment: l.tick,
      min_base_amount_increment: l.step,
      min_notional_size: l.min_notional,
      max_leverage: l.max_leverage,
      supported_order_types: ['market', 'limit', 'limit_maker'],
    },
  }));
}
