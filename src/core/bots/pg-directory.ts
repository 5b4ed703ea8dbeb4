import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { BotStore } from './bot-store.js';
import type { BotDirectory, DeployedBot } from './gateway.js';

/** Who a stored user is now (the users service): a removal or a demotion applies at once. */
export interface Owners {
  principal(name: string): Promise<Principal | null>;
}

/**
 * The gateway's view of the bots store: a bot may place orders only while it is deployed, meaning it
 * exists, is not archived and the server means it to run (one being stopped may still cancel), and while whoever deployed it may still trade
 * its account (a deployer who was removed, made a viewer or lost the account takes the bot's right to
 * trade with them: an agent cannot keep trading through a bot what it may no longer trade itself).
 * Its orders run as `bot:<id>`, a trader limited to the bot's one account; the deployer's wider rights
 * never travel with it.
 */
export class PgBotDirectory implements BotDirectory {
  constructor(
    private readonly store: BotStore,
    private readonly owners: Owners,
  ) {}

  async lookup(botId: string): Promise<DeployedBot | null> {
    const bot = await this.store.get(botId);
    if (!bot || bot.archivedAt) return null;
    // A stopped bot whose process still runs is winding down (the stop asks it to cancel its orders).
    const winding = bot.desiredState !== 'running';
    const owner = bot.owner.stored ? await this.owners.principal(bot.owner.name) : bot.owner;
    const why = !owner
      ? `${bot.owner.name}, who deployed it, is no longer a user`
      : owner.role === 'viewer'
        ? `${owner.name}, who deployed it, may no longer trade`
        : owner.role !== 'admin' && owner.accounts && !owner.accounts.includes(bot.accountName)
          ? `${owner.name}, who deployed it, may no longer trade account ${bot.accountName}`
          : null;
    if (why) throw new AppError('POLICY_DENIED', `Bot ${botId} may not trade: ${why}.`, { hint: 'Stop the bot, or deploy it again as a user who may trade that account.' });
    return { account: bot.accountName, principal: { name: `bot:${bot.id}`, role: 'trader', accounts: [bot.accountName] }, ...(winding ? { winding: true } : {}) };
  }
}
