import { archiveBot } from './archive-bot.js';
import { deployBotCommand } from './deploy-bot.js';
import { deployControllers } from './deploy-controllers.js';
import { getBotLogs } from './get-logs.js';
import { getBotPerformance } from './get-performance.js';
import { getBotStatus } from './get-status.js';
import { listBotEvents } from './list-events.js';
import { listBotFills } from './list-fills.js';
import { listBotRuns } from './list-runs.js';
import { listBots } from './list-bots.js';
import { runScript } from './run-script.js';
import { startBot } from './start-bot.js';
import { stopBot } from './stop-bot.js';
import { updateBotConfig } from './update-config.js';

export const botCommands = [
  listBots,
  deployBotCommand,
  deployControllers,
  runScript,
  getBotStatus,
  startBot,
  stopBot,
  updateBotConfig,
  getBotLogs,
  listBotFills,
  getBotPerformance,
  listBotEvents,
  listBotRuns,
  archiveBot,
];
