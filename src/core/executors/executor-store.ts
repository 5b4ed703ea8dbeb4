import { and, desc, eq, inArray, isNull, like, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { accounts, executors, orders, type OrderRow, type ExecutorPrincipal, type ExecutorRow, type ExecutorRowStatus, type ExecutorRuntime, type OutboxEntry } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { orderIdPrefix } from './client-order-ids.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';
import { EXECUTOR_ID_RE } from '../strategy/executors/configs.js';

export interface NewExecutorRow {
  id: string;
  accountName: string;
  connectorName: string;
  tradingPair: string;
  type: string;
  side: string | null;
  controllerId: string | null;
  config: unknown;
  state: Record<string, unknown>;
  runtime: ExecutorRuntime;
  principal: ExecutorPrincipal;
  runner: string;
  now: Date;
}

/** What one cycle writes back: the executor's state and the order path's bookkeeping, together. */
export interface ExecutorSave {
  state: Record<string, unknown>;
  runtime: ExecutorRuntime;
  outbox: OutboxEntry[];
  status: ExecutorRowStatus;
  side: string | null;
  closeType: string | null;
  report: Record<string, unknown> | null;
  closedAt: Date | null;
  now: Date;
}

export interface ExecutorFilter {
  accounts: readonly string[] | null;
  account_name?: string;
  status?: ExecutorRowStatus | 'running';
  type?: string;
  limit: number;
  cursor?: string;
}


/**
 * The executors table's statements. A running executor's row is only written by its runner: every
 * write names the runner, so a process that lost an executor to another (it went quiet too long) finds
 * its write matching no row and lets go, rather than overwriting the newer state.
 */
export class ExecutorStore {
  constructor(private readonly db: Db) {}

  /**
   * Stores a new executor. Its account row is read `for key share` first: that waits for an account
   * delete in progress (which holds it `for update` while it counts what still trades) and blocks the
   * next one until this row is in, so an executor is never left behind on a deleted account; orders,
   * which lock the row `for no key update`, are not held up.
   */
  insert(e: NewExecutorRow): Promise<ExecutorRow> {
    return this.db.transaction(async (tx) => {
      const [account] = await tx.select({ name: accounts.name }).from(accounts).where(eq(accounts.name, e.accountName)).for('key share');
      if (!account) throw new AppError('NOT_FOUND', `There is no account named ${e.accountName}.`, { hint: 'GET /accounts lists the accounts.' });
      return this.#insert(tx as unknown as Db, e);
    });
  }

  async #insert(db: Db, e: NewExecutorRow): Promise<ExecutorRow> {
    const rows = await db
      .insert(executors)
      .values({
        id: e.id,
        accountName: e.accountName,
        connectorName: e.connectorName,
        tradingPair: e.tradingPair,
        type: e.type,
        side: e.side,
        controllerId: e.controllerId,
        config: e.config as object,
        state: e.state,
        runtime: e.runtime,
        outbox: [],
        status: 'active',
        createdBy: e.principal.name,
        principal: e.principal,
        runner: e.runner,
        heartbeatAt: e.now,
        createdAt: e.now,
        updatedAt: e.now,
      })
      .onConflictDoNothing()
      .returning();
    if (!rows[0]) throw new AppError('CONFLICT', `An executor with the id ${e.id} already exists.`, { hint: 'Leave executor_config.id out to have one generated, or choose another.' });
    return rows[0];
  }

  async get(id: string): Promise<ExecutorRow | undefined> {
    const [row] = await this.db.select().from(executors).where(eq(executors.id, id));
    return row;
  }

  /**
   * Heartbeats this runner's executors and takes over those nobody runs: no runner, a runner quiet since
   * `staleBefore`, or (`takeAll`, a process alone on its database at start) any runner. Returns them all.
   */
  async claim(runner: string, now: Date, staleBefore: Date, takeAll: boolean): Promise<ExecutorRow[]> {
    const free = takeAll ? undefined : or(eq(executors.runner, runner), isNull(executors.runner), lt(executors.heartbeatAt, staleBefore));
    return this.db.update(executors).set({ runner, heartbeatAt: now }).where(and(ne(executors.status, 'terminated'), free)).returning();
  }

  /** Lets go of executors at a clean stop: the next runner takes them at once. */
  async release(ids: string[], runner: string): Promise<void> {
    if (ids.length) await this.db.update(executors).set({ runner: null }).where(and(inArray(executors.id, ids), eq(executors.runner, runner)));
  }

  /** Writes a cycle's outcome; false when another runner holds the executor now. */
  async save(id: string, runner: string, s: ExecutorSave): Promise<boolean> {
    const rows = await this.db
      .update(executors)
      .set({ state: s.state, runtime: s.runtime, outbox: s.outbox, status: s.status, side: s.side, closeType: s.closeType, report: s.report, closedAt: s.closedAt, updatedAt: s.now, heartbeatAt: s.now })
      .where(and(eq(executors.id, id), eq(executors.runner, runner), ne(executors.status, 'terminated')))
      .returning({ id: executors.id });
    return rows.length === 1;
  }

  /** Records a stop request for the runner to apply; the row as it stands (undefined when there is none). */
  async requestStop(id: string, keepPosition: boolean, by: string, now: Date): Promise<ExecutorRow | undefined> {
    const [row] = await this.db
      .update(executors)
      .set({ stopRequest: sql`coalesce(${executors.stopRequest}, ${JSON.stringify({ keep_position: keepPosition, by })}::jsonb)`, updatedAt: now })
      .where(and(eq(executors.id, id), ne(executors.status, 'terminated')))
      .returning();
    return row ?? (await this.get(id));
  }

  async list(f: ExecutorFilter): Promise<{ data: ExecutorRow[]; pagination: { limit: number; has_more: boolean; next_cursor: string | null } }> {
    const conds: SQL[] = [];
    if (f.accounts) conds.push(inArray(executors.accountName, [...f.accounts]));
    if (f.account_name) conds.push(eq(executors.accountName, f.account_name));
    if (f.status === 'running') conds.push(ne(executors.status, 'terminated'));
    else if (f.status) conds.push(eq(executors.status, f.status));
    if (f.type) conds.push(eq(executors.type, f.type));
    const cur = f.cursor ? keysetCursor(f.cursor, EXECUTOR_ID_RE) : null;
    if (cur) conds.push(or(lt(executors.createdAt, cur.at), and(eq(executors.createdAt, cur.at), lt(executors.id, cur.key)))!);
    const rows = await this.db.select().from(executors).where(and(...conds)).orderBy(desc(executors.createdAt), desc(executors.id)).limit(f.limit + 1);
    const more = rows.length > f.limit;
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    return { data: page, pagination: { limit: f.limit, has_more: more, next_cursor: more && last ? encodeKeysetCursor(last.createdAt, last.id) : null } };
  }

  /**
   * The latest `limit` orders an executor placed, oldest first, and how many it placed in all (a grid or
   * a TWAP running for days places thousands; the newest say most about where it stands). Its client
   * order ids share one prefix and end in their sequence number.
   */
  async orders(executor: Pick<ExecutorRow, 'id' | 'accountName'>, limit = 200): Promise<{ rows: OrderRow[]; total: number }> {
    const mine = and(eq(orders.accountName, executor.accountName), like(orders.clientOrderId, `${orderIdPrefix(executor.id).replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    const rows = await this.db
      .select()
      .from(orders)
      .where(mine)
      .orderBy(desc(orders.createdAt), desc(sql`length(${orders.clientOrderId})`), desc(orders.clientOrderId))
      .limit(limit);
    const [count] = rows.length < limit ? [{ n: rows.length }] : await this.db.select({ n: sql<number>`count(*)::int` }).from(orders).where(mine);
    return { rows: rows.reverse(), total: count?.n ?? rows.length };
  }

  /** PnL and volume of ended executors per account, summed in numeric from their final reports (decimal strings). */
  async endedTotals(accounts: readonly string[] | null, account?: string) {
    const conds: SQL[] = [eq(executors.status, 'terminated')];
    if (accounts) conds.push(inArray(executors.accountName, [...accounts]));
    if (account) conds.push(eq(executors.accountName, account));
    const num = (field: string) => sql<string>`coalesce(sum((${executors.report}->>${field})::numeric), 0)::text`;
    return this.db
      .select({
        accountName: executors.accountName,
        count: sql<number>`count(*)::int`,
        netPnl: num('net_pnl_quote'),
        realizedPnl: num('realized_pnl_quote'),
        unrealizedPnl: num('unrealized_pnl_quote'),
        fees: num('cum_fees_quote'),
        volume: num('filled_amount_quote'),
      })
      .from(executors)
      .where(and(...conds))
      .groupBy(executors.accountName)
      .orderBy(executors.accountName);
  }

  /** The executors not yet ended, with their last stored report. */
  async unended(accounts: readonly string[] | null, account?: string): Promise<Array<Pick<ExecutorRow, 'id' | 'accountName' | 'report'>>> {
    const conds: SQL[] = [ne(executors.status, 'terminated')];
    if (accounts) conds.push(inArray(executors.accountName, [...accounts]));
    if (account) conds.push(eq(executors.accountName, account));
    return this.db.select({ id: executors.id, accountName: executors.accountName, report: executors.report }).from(executors).where(and(...conds));
  }
}
