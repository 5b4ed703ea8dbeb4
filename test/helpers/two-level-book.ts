import type { OrderBook } from '../../src/core/exchange/types.js';

/** A BTC-USDT book two levels deep on each side (1 at the touch, 5 behind it): small enough to work fills out by hand. */
export const TWO_LEVEL_BOOK: OrderBook = {
  trading_pair: 'BTC-USDT',
  timestamp: 0,
  asks: [
    { price: 100, amount: 1 },
    { price: 101, amount: 5 },
  ],
  bids: [
    { price: 99, amount: 1 },
    { price: 98, amount: 5 },
  ],
};
