import type { OrderRow } from '../db/schema/index.js';
import { AppError, toAppError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { TradingService } from '../trading/trading-service.js';
import type { UsersService } from '../users/users-service.js';
import type { OrderSender } from './order-path.js';
import type { RunCommand } from './types.js';

/**
 * The four things the order path does to the ledger, apart from how they reach it: on the server they
 * are calls into the trading service and the command pipeline; in a bot process they are RPCs to the
 * server (src/bot/server-rpc.ts), which runs them there through the same pipeline as the bot's principal.
 */

/** What the order path reads of a stored order (an OrderRow is one; a bot builds it from the wire). */
export interface StoredOrder {
  /** The server's order id. */
  id: string;
  clientOrderId: string;
  tradingPair: string;
  status: OrderRow['status'];
  /** Decimals as strings. */
  filledAmount: string;
  averageFillPrice: string | null;
  errorMessage: string | null;
}

/** What the order path reads of a fill (decimals as strings). */
export interface StoredFill {
  price: string;
  amount: string;
  fee: string;
  feeAsset: string;
  isMaker: boolean;
  at: Date;
}

export interface OrderActions {
  /** Places `order` (wire fields, decimals as strings) on the sender's account; a refusal throws its AppError. Repeating a client order id places nothing new. */
  place(s: OrderSender, order: Record<string, unknown>, requestId: string): Promise<void>;
  cancel(s: OrderSender, clientOrderId: string, requestId: string): Promise<void>;
  /** The sender's order with that client order id; null when there is none. */
  order(s: OrderSender, clientOrderId: string): Promise<StoredOrder | null>;
  /** Its fills, oldest first. */
  fills(s: OrderSender, order: StoredOrder): Promise<StoredFill[]>;
}

export interface ServerOrderActionsDeps {
  trading: TradingService;
  users: UsersService;
  run: RunCommand;
}

/**
 * The server's own: places and cancels go through execute() (trading_place_order /
 * trading_cancel_order) as the sender's principal, so role, account scope, guardrails, the kill switch
 * and the journal apply as to anyone's; reads go straight to the trading service (a poll is not a
 * command, and is not journaled).
 */
export class ServerOrderActions implements OrderActions {
  constructor(private readonly deps: ServerOrderActionsDeps) {}

  async place(s: OrderSender, order: Record<string, unknown>, requestId: string): Promise<void> {
    const as = { principal: await this.#principal(s), channel: s.principal.channel, requestId, automated: true };
    await this.deps.run('trading_place_order', await this.#placeInput(s, order), as);
  }

  async cancel(s: OrderSender, clientOrderId: string, requestId: string): Promise<void> {
    const as = { principal: await this.#principal(s), channel: s.principal.channel, requestId };
    await this.deps.run('trading_cancel_order', { order_id: clientOrderId, account_name: s.account }, as);
  }

  async order(s: OrderSender, clientOrderId: string): Promise<StoredOrder | null> {
    try {
      return await this.deps.trading.get(s.account, clientOrderId);
    } catch (err) {
      if (toAppError(err).code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async fills(_s: OrderSender, order: StoredOrder): Promise<StoredFill[]> {
    return (await this.deps.trading.fills({ order_id: order.id, limit: 1000 })).data.reverse();
  }

  /**
   * The order as trading_place_order takes it. A live exchange trades a perpetual at the leverage set on
   * the exchange (this server does not change it there), so the executor's leverage is left out; the
   * executors command refuses a leverage other than 1 on such a connector.
   */
  async #placeInput(s: OrderSender, order: Record<string, unknown>): Promise<Record<string, unknown>> {
    const input: Record<string, unknown> = { ...order, account_name: s.account };
    if (input.leverage !== undefined && (await this.deps.trading.isLive(String(input.connector_name)))) delete input.leverage;
    return input;
  }

  /** The creator as of now: a stored user's current role and accounts (a removed user places nothing). */
  async #principal(s: OrderSender): Promise<Principal> {
    const p = s.principal;
    if (!p.stored) return { name: p.name, role: p.role, accounts: p.accounts };
    const current = await this.deps.users.principal(p.name);
    if (!current) {
      const what = s.kind === 'executor' ? `executor ${s.id}` : `controller run ${s.id}`;
      throw new AppError('POLICY_DENIED', `${p.name}, who created ${what}, is no longer a user, so its orders are refused.`, { hint: `Stop the ${s.kind === 'executor' ? 'executor' : 'controller run'}, or create it again as an existing user.` });
    }
    return current;
  }
}
