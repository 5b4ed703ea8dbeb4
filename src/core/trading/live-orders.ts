import { eq } from 'drizzle-orm';
import { AppError } from '../command/errors.js';
import type { AccountsService } from '../accounts/accounts-service.js';
import type { Db } from '../db/client.js';
import { fills, orders, type OrderRow } from '../db/schema/index.js';
import { CcxtConnector } from '../exchange/ccxt/ccxt-connector.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ExchangeOrder } from '../exchange/types.js';
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
      await this.db.update(orders).set({ errorMessage: 'outcome unknown: the exchange did not answer; the server keeps checking', updatedAt: new Date() }).where(eq(orders.id, order.id));
      const appErr = err instanceof AppError ? err : new AppError('UPSTREAM_UNAVAILABLE', `${order.connectorName} did not confirm the order.`, { cause: err });
      throw new AppError(appErr.code === 'TIMEOUT' ? 'TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `${order.connectorName} did not confirm order ${order.id}; it may or may not have been placed.`, {
        hint: `The server reconciles it with the exchange. Read it with trading_get_order ${order.id} before placing again; a retry with the same client_order_id is safe.`,
        details: { order_id: order.id, ...(appErr.details ?? {}) },
        cause: err,
      });
    }
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

  async cancel(order: OrderRow): Promise<OrderRow> {
    if (!order.exchangeOrderId) throw new AppError('CONFLICT', `Order ${order.id} is not confirmed by the exchange yet.`, { hint: 'Retry in a few seconds.' });
    const { c, creds } = await this.#venue(order);
    return this.apply(order, await c.cancelOrder(creds, order.exchangeOrderId, order.tradingPair));
  }

  /** Stores what the exchange reports; fills are keyed by the exchange's trade id, so repeats add nothing. */
  async apply(order: OrderRow, ex: ExchangeOrder): Promise<OrderRow> {
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
          errorMessage: null,
          updatedAt: new Date(),
        })
        .where(eq(orders.id, order.id))
        .returning();
      return row!;
    });
  }

  async #finish(id: string, status: 'rejected' | 'failed', message: string): Promise<OrderRow> {
    const [row] = await this.db.update(orders).set({ status, errorMessage: message, updatedAt: new Date() }).where(eq(orders.id, id)).returning();
    return row!;
  }

  /** Refreshes live orders that are open or unconfirmed. */
  async sync(rows: OrderRow[]): Promise<number> {
    let n = 0;
    for (const o of rows) {
      try {
        await this.resolve(o);
        n++;
      } catch (err) {
        this.logger.debug('live order sync failed', { order_id: o.id, err: (err as Error).message });
      }
    }
    return n;
  }
}
