import type { AnyCommand } from '../core/command/index.js';
import { accountCommands } from './accounts/index.js';
import { connectorCommands } from './connectors/index.js';
import { marketDataCommands } from './market-data/index.js';
import { portfolioCommands } from './portfolio/index.js';
import { tradingCommands } from './trading/index.js';
import { userCommands } from './users/index.js';

/** Every command the server offers, in listing order. */
export const allCommands: AnyCommand[] = [...connectorCommands, ...accountCommands, ...marketDataCommands, ...tradingCommands, ...portfolioCommands, ...userCommands] as unknown as AnyCommand[];

/** Toolsets the MCP face lists when none are chosen. */
export const DEFAULT_TOOLSETS = ['connectors', 'accounts', 'market_data', 'trading', 'portfolio'];
