import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Db } from '../db/client.js';
import { bots, executors, orders, positions } from '../db/schema/index.js';

/** What still trades on an account (or on some of its connectors): counts, zero when nothing does. */
export interface AccountHoldings {
  open_orders: number;
  active_executors: number;
  open_positions: number;
  running_bots: number;
}

/**
 * Counts what an account's removal would strand: resting orders (their funds and history go with the
 * account), executors still managing a position, open positions, and bots meant to run. `connectors`
 * narrows it to those connectors (bots are counted only for the whole account: a bot's connectors are
 * in its strategy, and it is stopped as a whole).
 */
export async function accountHoldings(db: Db, account: string, connectors?: readonly string[]): Promise<AccountHoldings> {
  const on = <C>(col: C) => (connectors ? inArray(col as never, connectors as string[]) : sql`true`);
  const count = sql<number>`count(*)::int`;
  const [o, e, p, b] = await Promise.all([
    db.select({ n: count }).from(orders).where(and(eq(orders.accountName, account), on(orders.connectorName), inArray(orders.status, ['open', 'partially_filled', 'pending_submit']))),
    db.select({ n: count }).from(executors).where(and(eq(executors.accountName, account), on(executors.connectorName), ne(executors.status, 'terminated'))),
    db.select({ n: count }).from(positions).where(and(eq(positions.accountName, account), on(positions.connectorName), ne(positions.amount, '0'))),
    connectors ? Promise.resolve([{ n: 0 }]) : db.select({ n: count }).from(bots).where(and(eq(bots.accountName, account), eq(bots.desiredState, 'running'), sql`${bots.archivedAt} is null`)),
  ]);
  return { open_orders: o[0]!.n, active_executors: e[0]!.n, open_positions: p[0]!.n, running_bots: b[0]!.n };
}

/** CONFLICT naming what still trades, or nothing; `what` says what would be removed ("Account x", "sim on x"). */
export async function refuseWhileTrading(db: Db, account: string, what: string, connectors?: readonly string[]): Promise<void> {
  const held = await accountHoldings(db, account, connectors);
  const parts = [
    held.open_orders && `${held.open_orders} open order(s)`,
    held.active_executors && `${held.active_executors} active executor(s)`,
    held.open_positions && `${held.open_positions} open position(s)`,
    held.running_bots && `${held.running_bots} running bot(s)`,
  ].filter(Boolean);
  if (parts.length === 0) return;
  throw new AppError('CONFLICT', `${what} still has ${parts.join(', ')}; removing it would leave them unmanaged and lose their history.`, {
    hint: `Stop them first (GET /executors?account_name=${account}&status=running, then POST /executors/{executor_id}/stop; DELETE /trading/orders/{order_id}; POST /trading/close-position; POST /bot-orchestration/bots/{bot_id}/stop), then remove it.`,
    details: { account_name: account, ...(connectors ? { connectors } : {}), ...held },
  });
}
