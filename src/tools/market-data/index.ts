import { getCandles } from './get-candles.js';
import { getOrderBook } from './get-order-book.js';
import { getTicker } from './get-ticker.js';
import { getTrades } from './get-trades.js';

export const marketDataCommands = [getTicker, getOrderBook, getCandles, getTrades];
