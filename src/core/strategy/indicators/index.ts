/** Technical indicators for controllers: incremental classes and their whole-series forms. See docs/indicators.md. */
export { Atr, Natr } from './atr.js';
export { BollingerBands } from './bollinger.js';
export { Ema } from './ema.js';
export { Macd } from './macd.js';
export { Rsi } from './rsi.js';
export { Sma } from './sma.js';
export { Stdev } from './stdev.js';
export { Supertrend } from './supertrend.js';
export { atr, bollinger, ema, macd, natr, rsi, sma, stdev, supertrend } from './batch.js';
export type { BollingerSeries, MacdSeries, SupertrendSeries } from './batch.js';
