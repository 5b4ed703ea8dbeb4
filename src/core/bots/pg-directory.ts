import type { BotStore } from './bot-store.js';
import type { BotDirectory, DeployedBot } from './gateway.js';

/**
 * The gateway's view of the bots store: a bot may place orders only while it is deployed, meaning it
 * exists, is not archived and the server means it to run. Its orders run as `bot:<id>`, a trader
 * limited to the bot's one account, whoever deployed it (the deployer's own rights never travel with it).
 */
export class PgBotDirectory implements BotDirectory {
  constructor(private readonly store: BotStore) {}

  async lookup(botId: string): Promise<DeployedBot | null> {
    const bot = await this.store.get(botId);
    if (!bot || bot.archivedAt || bot.desiredState !== 'running') return null;
    return { account: bot.accountName, principal: { name: `bot:${bot.id}`, role: 'trader', accounts: [bot.accountName] } };
  }
}
