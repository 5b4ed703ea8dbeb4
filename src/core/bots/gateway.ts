import { randomUUID } from 'node:crypto';
import { toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../principal.js';
import type { RunCommand } from '../executors/types.js';
import type { RpcBus, ServedRequest } from './bus.js';
import type { ResponseData } from './protocol/envelope.js';
import { BOT_NAMESPACE, isBotId } from './topics.js';

/**
 * The server's end of the RPCs a bot sends (`hbot/<id>/rpc/<name>`): each is one command, run through
 * execute() as the bot's principal (`bot:<name>`, scoped to the bot's account) on the `bot` channel, so
 * role, account scope, caps, the kill switch and the journal apply to a bot's order exactly as to
 * anyone's. A bot holds no exchange secret: its orders and reads happen here. The bot id is taken from
 * the topic, which the broker lets a bot publish under only when it is that bot (see the broker's ACL).
 */

/** What the gateway must know of a deployed bot. */
export interface DeployedBot {
  /** The one account the bot trades. */
  account: string;
  /** Who its orders run as: `bot:<name>`, with the bot's account as its only account. */
  principal: Principal;
  /**
   * The server is stopping it (desired state stopped, not archived): while it winds down it may cancel
   * and read its orders, so a stop can take its orders off the book, but it may place none.
   */
  winding?: boolean;
}

/** Where the gateway looks bots up (the bots store); null when no such bot is deployed now, an AppError when it may not trade. */
export interface BotDirectory {
  lookup(botId: string): Promise<DeployedBot | null>;
}

/**
 * The RPCs a bot may call: the command each one runs, whether it acts on an account (the bot's own
 * is filled in) or reads the market (no account), and whether it adds risk (refused to a winding bot).
 */
export const BOT_RPCS = {
  place_order: { command: 'trading_place_order', account: true, addsRisk: true },
  cancel_order: { command: 'trading_cancel_order', account: true },
  get_order: { command: 'trading_get_order', account: true },
  list_fills: { command: 'trading_list_fills', account: true },
  get_candles: { command: 'market_data_get_candles', account: false },
  get_order_book: { command: 'market_data_get_order_book', account: false },
  get_trading_rules: { command: 'connectors_get_trading_rules', account: false },
} as const satisfies Record<string, { command: string; account: boolean; addsRisk?: true }>;
export type BotRpc = keyof typeof BOT_RPCS;

export interface GatewayDeps {
  run: RunCommand;
  directory: BotDirectory;
  logger: Pick<Logger, 'warn'>;
}

export class BotGateway {
  constructor(
    private readonly bus: RpcBus,
    private readonly deps: GatewayDeps,
  ) {}

  async start(): Promise<void> {
    await this.bus.serve(`${BOT_NAMESPACE}/+/rpc/+`, (req) => this.handle(req));
  }

  /** Runs one bot request; a refusal is a 400 carrying the error's code, message, hint and details. */
  async handle(req: ServedRequest): Promise<ResponseData> {
    const [, botId = '', , rpc = ''] = req.topic.split('/');
    if (!isBotId(botId)) return { status: 400, msg: `${botId} is not a bot id.`, code: 'VALIDATION_FAILED' };
    if (!Object.hasOwn(BOT_RPCS, rpc)) {
      return { status: 400, msg: `There is no bot RPC named ${rpc}.`, code: 'NOT_SUPPORTED', hint: `Bots may call ${Object.keys(BOT_RPCS).join(', ')}.` };
    }
    try {
      const bot = await this.deps.directory.lookup(botId);
      if (!bot) return { status: 400, msg: `No bot ${botId} is deployed, so its requests are refused.`, code: 'POLICY_DENIED' };
      const spec: { command: string; account: boolean; addsRisk?: true } = BOT_RPCS[rpc as BotRpc];
      const { command, account } = spec;
      if (bot.winding && spec.addsRisk) {
        return { status: 400, msg: `Bot ${botId} is being stopped: it may cancel and read its orders, not place new ones.`, code: 'POLICY_DENIED' };
      }
      const input = req.data;
      if (account && input.account_name !== undefined && input.account_name !== bot.account) {
        return { status: 400, msg: `Bot ${botId} trades account ${bot.account} only.`, code: 'POLICY_DENIED', hint: 'Leave account_name out: the bot\'s account is used.' };
      }
      const result = await this.deps.run(command, account ? { ...input, account_name: bot.account } : input, {
        principal: bot.principal,
        channel: 'bot',
        requestId: `bot:${botId}:${req.msgId ?? randomUUID()}`,
        // A bot's strategy places its orders on its own schedule (equal TWAP slices, equal grid levels).
        automated: true,
      });
      return { status: 200, msg: '', result };
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'INTERNAL') this.deps.logger.warn('a bot request failed on an internal error', { bot_id: botId, rpc, err });
      return { status: 400, msg: e.message, code: e.code, ...(e.hint ? { hint: e.hint } : {}), ...(e.details ? { details: e.details } : {}) };
    }
  }
}
