import type { AnyCommand } from '../core/command/index.js';
import { accountCommands } from './accounts/index.js';
import { approvalCommands } from './approvals/index.js';
import { auditCommands } from './audit/index.js';
import { backtestingCommands } from './backtesting/index.js';
import { botCommands } from './bots/index.js';
import { connectorCommands } from './connectors/index.js';
import { dockerCommands } from './docker/index.js';
import { executorCommands } from './executors/index.js';
import { jobCommands } from './jobs/index.js';
import { marketDataCommands } from './market-data/index.js';
import { portfolioCommands } from './portfolio/index.js';
import { safetyCommands } from './safety/index.js';
import { strategyCommands } from './strategies/index.js';
import { tradingCommands } from './trading/index.js';
import { userCommands } from './users/index.js';

/** Every command the server offers, in listing order. */
export const allCommands: AnyCommand[] = [...connectorCommands, ...accountCommands, ...marketDataCommands, ...tradingCommands, ...approvalCommands, ...portfolioCommands, ...safetyCommands, ...auditCommands, ...userCommands, ...jobCommands, ...backtestingCommands, ...strategyCommands, ...executorCommands, ...botCommands, ...dockerCommands] as unknown as AnyCommand[];

/**
 * Toolsets the MCP face lists when none are chosen: at most 30 tools (a contract test holds this), so a
 * model is not handed everything. Later toolsets (jobs, strategies, bots, backtests) are opt-in with --toolsets.
 * So are executors, though they are the original's main trading primitive: their five tools would take
 * the default to 33, and what would make room (portfolio, connectors, approvals) is what a model needs
 * to trade with care. An executor also keeps trading after the call that made it, so an operator turns
 * them on knowingly (--toolsets default,executors).
 */
export const DEFAULT_TOOLSETS = ['connectors', 'accounts', 'market_data', 'trading', 'approvals', 'portfolio', 'safety', 'audit'];
