import type { Clock } from '../clock.js';
import { eq } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AccountsService } from '../accounts/accounts-service.js';
import type { Db } from '../db/client.js';
import { fills, orders, type OrderRow } from '../db/schema/index.js';
import { CcxtConnector } from '../exchange/ccxt/ccxt-connector.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ExchangeOrder, Market } from '../exchange/types.js';
import { Decimal } from '../decimal.js';
import type { FillGuard } from './fill-guard.js';
import { insufficientFunds } from './matching/match.js';
import type { Logger } from '../logger.js';

/** Errors after which the order certainly did not reach the exchange. */
const NOT_PLACED = new Set(['VALIDATION_FAILED', 'UPSTREAM_REJECTED', 'PRECONDITION_FAILED', 'NOT_FOUND', 'NOT_SUPPORTED', 'RATE_LIMITED', 'POLICY_DENIED']);

/**
 * Orders on live exchanges through ccxt. The client order id sent to the exchange is our order id, so
 * an order whose outcome is unknown (the connection dropped, the request timed out, the server died)
 * can always be looked up later: found means placed, "no such order" means it never arrived.
 */
export class LiveOrders {
  constructor(
    private readonly db: Db,
    private readonly connectors: Connectors,
    private readonly accounts: AccountsService,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly guard?: FillGuard,
  ) {}

  async #venue(order: OrderRow): Promise<{ c: CcxtConnector; creds: Record<string, string> }> {
    const c = await this.connectors.get(order.connectorName);
    if (!(c instanceof CcxtConnector)) throw new AppError('INTERNAL', `${order.connectorName} is not a live exchange connector.`);
    return { c, creds: await this.accounts.credentialsFor(order.accountName, order.connectorName) };
  }

  async submit(order: OrderRow): Promise<OrderRow> {
    const { c, creds } = await this.#venue(order);
    try {
      const placed = await c.createOrder(creds, {
        trading_pair: order.tradingPair,
        side: order.side,
        order_type: order.orderType,
        amount: order.amount,
        price: order.price,
        client_order_id: order.id,
        reduce_only: order.positionAction === 'close',
      });
      return await this.apply(order, placed);
    } catch (err) {
      if (err instanceof AppError && NOT_PLACED.has(err.code)) {
        await this.#finish(order.id, 'rejected', err.message);
        throw err;
      }
      // Unknown outcome: look the order up by its client id before saying anything.
      const resolved = await this.resolve(order).catch(() => null);
      if (resolved?.status === 'failed') {
        throw new AppError('UPSTREAM_UNAVAILABLE', `${order.connectorName} could not be reached; order ${order.id} was not placed.`, {
          hint: 'Nothing was executed. Retry later; the same client_order_id is safe to reuse only for the same order.',
          details: { order_id: order.id },
          cause: err,
        });
      }
      if (resolved && resolved.status !== 'pending_submit') return resolved;
      await this.db.update(orders).set({ errorMessage: 'outcome unknown: the exchange did not answer; the server keeps checking', updatedAt: this.clock.date() }).where(eq(orders.id, order.id));
      const appErr = err instanceof AppError ? err : new AppError('UPSTREAM_UNAVAILABLE', `${order.connectorName} did not confirm the order.`, { cause: err });
      throw new AppError(appErr.code === 'TIMEOUT' ? 'TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `${order.connectorName} did not confirm order ${order.id}; it may or may not have been placed.`, {
        hint: `The server reconciles it with the exchange. Read it (GET /trading/orders/${order.id}) before placing again; a retry with the same client_order_id is safe.`,
        details: { order_id: order.id, ...(appErr.details ?? {}) },
        cause: err,
      });
    }
  }

  /**
   * Whether the account's free balance on the exchange covers a spot order now: the quote for a buy
   * (amount × price, before fees, which the exchange charges its own way), the base for a sell. Returns
   * the refusal the exchange would give, or null.
   */
  async fundsShortfall(account: string, connector: string, market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal): Promise<AppError | null> {
    const c = await this.connectors.get(connector);
    const balances = await c.fetchBalances(await this.accounts.credentialsFor(account, connector));
    const asset = side === 'buy' ? market.quote : market.base;
    const need = side === 'buy' ? amount.times(price) : amount;
    const have = new Decimal(balances.find((b) => b.asset === asset)?.available ?? 0);
    return need.gt(have) ? insufficientFunds(asset, need, have) : null;
  }

  /** Finds an order whose outcome is unknown; a definite "no such order" marks it failed. */
  async resolve(order: OrderRow): Promise<OrderRow> {
    const { c, creds } = await this.#venue(order);
    try {
      const found = await c.fetchOrder(creds, order.exchangeOrderId ? { exchange_order_id: order.exchangeOrderId } : { client_order_id: order.id }, order.tradingPair);
      return await this.apply(order, found);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND' && !order.exchangeOrderId) {
        return this.#finish(order.id, 'failed', 'the exchange has no such order: it was never placed');
      }
      throw err;
    }
  }

  /** Cancels at the exchange; `reason`, when given, is stored with the outcome (in the same update). */
  async cancel(order: OrderRow, reason: string | null = null): Promise<OrderRow> {
    if (!order.exchangeOrderId) throw new AppError('CONFLICT', `Order ${order.id} is not confirmed by the exchange yet.`, { hint: 'Retry in a few seconds.' });
    const { c, creds } = await this.#venue(order);
    return this.apply(order, await c.cancelOrder(creds, order.exchangeOrderId, order.tradingPair), reason);
  }

  /** Stores what the exchange reports; fills are keyed by the exchange's trade id, so repeats add nothing. */
  async apply(order: OrderRow, ex: ExchangeOrder, message: string | null = null): Promise<OrderRow> {
    return this.db.transaction(async (tx) => {
      for (const t of ex.trades) {
        await tx
          .insert(fills)
          .values({
            fillId: `${order.connectorName}:${t.id}`,
            orderId: order.id,
            accountName: order.accountName,
            connectorName: order.connectorName,
            tradingPair: order.tradingPair,
            side: order.side,
            price: t.price,
            amount: t.amount,
            fee: t.fee ?? '0',
            feeAsset: t.fee_asset ?? ex.fee_asset ?? '',
            isMaker: t.maker,
            at: new Date(t.timestamp),
          })
          .onConflictDoNothing();
      }
      const [row] = await tx
        .update(orders)
        .set({
          status: ex.status,
          exchangeOrderId: ex.exchange_order_id,
          filledAmount: ex.filled,
          averageFillPrice: ex.average_price,
          feePaid: ex.fee ?? order.feePaid,
          feeAsset: ex.fee_asset ?? order.feeAsset,
          errorMessage: message,
          updatedAt: this.clock.date(),
        })
        .where(eq(orders.id, order.id))
        .returning();
      return row!;
    });
  }

  async #finish(id: string, status: 'rejected' | 'failed', message: string): Promise<OrderRow> {
    const [row] = await this.db.update(orders).set({ status, errorMessage: message, updatedAt: this.clock.date() }).where(eq(orders.id, id)).returning();
    return row!;
  }

  /** Refreshes live orders that are open or unconfirmed, and cancels the resting ones the account's limits now stop. */
  async sync(rows: OrderRow[]): Promise<number> {
    let n = 0;
    for (const o of rows) {
      try {
        const now = await this.resolve(o);
        n++;
        await this.recheck(now);
      } catch (err) {
        this.logger.debug('live order sync failed', { order_id: o.id, err: (err as Error).message });
      }
    }
    return n;
  }

  /**
   * A live order resting on the exchange meets the account's limits as they are now (kill switch, mode,
   * pairs, and for spot the position cap against the exchange's balance); one they would stop is
   * canceled at the exchange. What this guarantees is weaker than for paper orders: the exchange fills
   * the order, not this server, so a fill between two syncs (a few seconds apart) is not prevented, and
   * live perpetual positions are not tracked here, so their cap is not re-checked. What it does
   * guarantee is that an order the limits now forbid does not keep resting. Returns the order as stored.
   */
  async recheck(order: OrderRow): Promise<OrderRow> {
    if (!this.guard || !order.exchangeOrderId || !order.price || order.positionAction === 'close' || (order.status !== 'open' && order.status !== 'partially_filled')) return order;
    const { c, creds } = await this.#venue(order);
    const market = (await c.loadMarkets()).find((m) => m.trading_pair === order.tradingPair);
    if (!market) return order;
    const remaining = new Decimal(order.amount).minus(order.filledAmount);
    const position = market.market_type === 'spot' ? new Decimal((await c.fetchBalances(creds)).find((b) => b.asset === market.base)?.total ?? 0) : null;
    const usdtPerQuote = await this.guard.usdtPer(order.connectorName, market.quote).catch(() => null);
    const verdict = await this.guard.check(this.db, { order, market, marketType: market.market_type, amount: remaining, price: new Decimal(order.price), position, leverage: null, usdtPerQuote });
    if (!verdict.cancel) return order;
    // One update: a reader never sees the order canceled without the reason.
    return this.cancel(order, `canceled at the exchange by the ${verdict.cancel.guard} guard while it was resting: ${verdict.cancel.reason}`);
  }
}
