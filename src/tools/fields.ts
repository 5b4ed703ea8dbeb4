import { ConnectorName } from '../core/schema.js';

/**
 * Shared field schemas with the short texts the tools describe them by. A model reads them in every
 * tool that takes the field, on every conversation, so they say only what it needs to fill the field.
 */
export const Connector = ConnectorName.describe('e.g. "sim", "binance", "binance_paper_trade", "binance_perpetual".');
