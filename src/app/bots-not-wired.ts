import type { BotControl } from '../core/bots/control.js';
import { AppError } from '../core/errors.js';

/**
 * TEMPORARY: stands in for the bot orchestrator until it is wired into createServices. There are no
 * bots (an empty list, every id unknown) and every other call is refused as NOT_SUPPORTED. Delete this
 * file when the orchestrator provides `services.bots`.
 */
const notWired = async (): Promise<never> => {
  throw new AppError('NOT_SUPPORTED', 'bots are not wired yet');
};

export const botsNotWired: BotControl = {
  deploy: notWired,
  get: async () => undefined,
  list: async (_viewer, f) => ({ data: [], pagination: { limit: f.limit, has_more: false, next_cursor: null } }),
  start: notWired,
  stop: notWired,
  updateConfig: notWired,
  status: notWired,
  logs: notWired,
  fills: notWired,
  events: notWired,
  performance: notWired,
  runs: notWired,
  archive: notWired,
  stopBotsFor: notWired,
};
