import type { AnyCommand } from '../core/command/index.js';
import { accountCommands } from './accounts/index.js';
import { approvalCommands } from './approvals/index.js';
import { auditCommands } from './audit/index.js';
import { backtestingCommands } from './backtesting/index.js';
import { connectorCommands } from './connectors/index.js';
import { jobCommands } from './jobs/index.js';
import { marketDataCommands } from './market-data/index.js';
import { portfolioCommands } from './portfolio/index.js';
import { safetyCommands } from './safety/index.js';
import { strategyCommands } from './strategies/index.js';
import { tradingCommands } from './trading/index.js';
import { userCommands } from './users/index.js';

/** Every command the server offers, in listing order. */
export const allCommands: AnyCommand[] = [...connectorCommands, ...accountCommands, ...marketDataCommands, ...tradingCommands, ...approvalCommands, ...portfolioCommands, ...safetyCommands, ...auditCommands, ...userCommands, ...jobCommands, ...backtestingCommands, ...strategyCommands] as unknown as AnyCommand[];

/**
 * Toolsets the MCP face lists when none are chosen: at most 30 tools (a contract test holds this), so a
 * model is not handed everything. Later toolsets (jobs, strategies, bots, backtests) are opt-in with --toolsets.
 */
export const DEFAULT_TOOLSETS = ['connectors', 'accounts', 'market_data', 'trading', 'approvals', 'portfolio', 'safety', 'audit'];
