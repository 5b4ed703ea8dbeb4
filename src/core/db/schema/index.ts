export * from './users.js';
export * from './accounts.js';
export * from './audit.js';
export * from './settings.js';
export * from './trading.js';
export * from './portfolio.js';
export * from './candles.js';
export * from './safety.js';
