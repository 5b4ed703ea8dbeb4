import { getConnector } from './get-connector.js';
import { getTradingRules } from './get-trading-rules.js';
import { listConnectors } from './list-connectors.js';
import { listMarkets } from './list-markets.js';

export const connectorCommands = [listConnectors, getConnector, getTradingRules, listMarkets];
