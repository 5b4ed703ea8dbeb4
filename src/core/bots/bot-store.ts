import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import {
  botEvents,
  botFills,
  botLogs,
  botPerformance,
  botRuns,
  bots,
  type BotDesiredState,
  type BotEventRow,
  type BotFillRow,
  type BotLogRow,
  type BotPerformanceRow,
  type BotRow,
  type BotRunRow,
  type BotStrategy,
} from '../db/schema/index.js';
import { Decimal, MAX_AMOUNT } from '../decimal.js';
import { AppError } from '../errors.js';
import type { Performance } from './protocol/reports.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';
import type { BotListFilter, BotViewer, NewBot, NewBotEvent, NewBotFill, NewBotLog, Observation, Page, PerformanceQuery, RunEnd } from './bot-records.js';
import { snapshotRows } from './performance-figures.js';
import { isBotId } from './topics.js';

/** Log lines kept per bot by default: enough for a crash's traceback and the minutes before it. */
export const DEFAULT_LOG_LIMIT = 5_000;

export interface BotStoreOptions {
  /** Newest log lines kept per bot. */
  logLimit?: number;
}

/**
 * The bots' state in Postgres: the bots themselves (desired and observed state), their runs, and what
 * they report (events, fills, performance snapshots, logs). Times the server decides (created, updated,
 * a run's start and end, archiving) come from the injected clock; times a bot reports come with its
 * report. Reports are written idempotently, since MQTT QoS 1 may deliver one twice.
 */
export class BotStore {
  readonly logLimit: number;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    opts: BotStoreOptions = {},
  ) {
    this.logLimit = opts.logLimit ?? DEFAULT_LOG_LIMIT;
  }

  async create(b: NewBot): Promise<BotRow> {
    if (!isBotId(b.id)) throw new AppError('VALIDATION_FAILED', `"${b.id}" is not a valid bot id.`, { hint: 'Use 1-63 lowercase letters, digits, "-" or "_".' });
    const now = this.clock.date();
    const [row] = await this.db
      .insert(bots)
      .values({ ...b, ownerName: b.owner.name, observedState: 'stopped', createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AppError('CONFLICT', `A bot with the id ${b.id} already exists.`, { hint: 'Choose another bot name; an archived bot keeps its id.' });
    return row;
  }

  async get(id: string): Promise<BotRow | undefined> {
    const [row] = await this.db.select().from(bots).where(eq(bots.id, id));
    return row;
  }

  /** Newest first, by keyset on (created_at, id). */
  async list(viewer: BotViewer, f: BotListFilter): Promise<Page<BotRow>> {
    const conds: SQL[] = [];
    if (viewer.owner !== null) conds.push(eq(bots.ownerName, viewer.owner));
    if (viewer.accounts !== null) conds.push(viewer.accounts.length ? inArray(bots.accountName, [...viewer.accounts]) : sql`false`);
    if (f.desired) conds.push(eq(bots.desiredState, f.desired));
    if (f.observed) conds.push(eq(bots.observedState, f.observed));
    if (!f.includeArchived) conds.push(isNull(bots.archivedAt));
    if (f.cursor) {
      const c = keysetCursor(f.cursor);
      conds.push(or(lt(bots.createdAt, c.at), and(eq(bots.createdAt, c.at), lt(bots.id, c.key)))!);
    }
    const rows = await this.db.select().from(bots).where(and(...conds)).orderBy(desc(bots.createdAt), desc(bots.id)).limit(f.limit + 1);
    return page(rows, f.limit, (r) => encodeKeysetCursor(r.createdAt, r.id));
  }

  /** Whether `viewer` may see bot `row` (the same rule as list). */
  static visible(row: Pick<BotRow, 'ownerName' | 'accountName'>, viewer: BotViewer): boolean {
    return (viewer.owner === null || row.ownerName === viewer.owner) && (viewer.accounts === null || viewer.accounts.includes(row.accountName));
  }

  /** What the server should keep the bot at. An archived bot stays stopped. */
  async setDesired(id: string, state: BotDesiredState): Promise<BotRow> {
    const [row] = await this.db
      .update(bots)
      .set({ desiredState: state, updatedAt: this.clock.date() })
      .where(and(eq(bots.id, id), isNull(bots.archivedAt)))
      .returning();
    if (row) return row;
    throw await this.#archived(id, 'Deploy a new bot; an archived one cannot be started again.');
  }

  /** What the runtime says of one bot (started, exited with a code, a heartbeat); many heartbeats at once go through heartbeats(). */
  async recordObserved(id: string, o: Observation): Promise<BotRow> {
    const set: Partial<typeof bots.$inferInsert> = { observedState: o.state, updatedAt: this.clock.date() };
    if (o.exitCode !== undefined) set.exitCode = o.exitCode;
    if (o.heartbeatAt) set.lastHeartbeatAt = o.heartbeatAt;
    const [row] = await this.db.update(bots).set(set).where(eq(bots.id, id)).returning();
    if (!row) throw notFound(id);
    return row;
  }

  /** A new strategy spec (a config change the bot accepted); refused for an archived bot. */
  async updateStrategy(id: string, strategy: BotStrategy): Promise<BotRow> {
    const [row] = await this.db
      .update(bots)
      .set({ strategy, updatedAt: this.clock.date() })
      .where(and(eq(bots.id, id), isNull(bots.archivedAt)))
      .returning();
    if (row) return row;
    throw await this.#archived(id, 'An archived bot keeps the config it had.');
  }

  /**
   * Heartbeats of many bots in one statement (a thousand bots beat every few seconds; a row update each
   * would be a statement each). A heartbeat only moves `last_heartbeat_at` forward, and proves a bot
   * `starting` or `unreachable` to be running; a bot recorded `stopped` or `error` stays so (a beat that
   * arrives after its stop was seen says nothing new). Returns the ids that moved to running.
   */
  async heartbeats(beats: ReadonlyArray<{ id: string; at: Date }>): Promise<string[]> {
    if (!beats.length) return [];
    const latest = new Map<string, Date>();
    for (const b of beats) {
      const seen = latest.get(b.id);
      if (!seen || seen < b.at) latest.set(b.id, b.at);
    }
    // In id order, so two batches at once take the locks of the rows they share in the same order.
    const batch = JSON.stringify([...latest].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, at]) => ({ id, at: at.toISOString() })));
    const now = this.clock.date().toISOString();
    // `old` reads (and locks) each row as it stands, so the statement can say which bots it woke. The
    // lock is FOR NO KEY UPDATE, what the update takes anyway: unlike FOR UPDATE it does not block the
    // key-share locks that inserting a bot's performance, logs or fills takes on its row (a foreign
    // key), which lock rows in arrival order and so could deadlock with this batch.
    // Only the woken bots come back: a row per beating bot was a thousand rows a second to read and drop.
    const result = (await this.db.execute(sql`
      with beat as (
        update ${bots} b set
          last_heartbeat_at = greatest(b.last_heartbeat_at, v.at),
          observed_state = case when old.observed_state in ('starting', 'unreachable') then 'running' else old.observed_state end,
          updated_at = ${now}::timestamptz
        from jsonb_to_recordset(${batch}::jsonb) as v(id text, at timestamptz),
          lateral (select observed_state from ${bots} where id = v.id for no key update) old
        where b.id = v.id
        returning b.id, old.observed_state as was)
      select id from beat where was in ('starting', 'unreachable')`)) as unknown as { rows: Array<{ id: string }> };
    return result.rows.map((r) => r.id).sort();
  }

  /**
   * Marks `unreachable` every bot recorded running whose last heartbeat is older than `staleBefore` (or
   * that never beat and was last changed before it), in one statement; returns their ids. The server runs it on a timer.
   */
  async markUnreachable(staleBefore: Date): Promise<string[]> {
    const rows = await this.db
      .update(bots)
      .set({ observedState: 'unreachable', updatedAt: this.clock.date() })
      // One that never beat counts from when its row last changed (it was seen running): a bot that has
      // just said it is online is not quiet because its first beat is still in the ingest's buffer.
      .where(and(eq(bots.observedState, 'running'), or(and(isNull(bots.lastHeartbeatAt), lt(bots.updatedAt, staleBefore)), lt(bots.lastHeartbeatAt, staleBefore))))
      .returning({ id: bots.id });
    return rows.map((r) => r.id).sort();
  }

  /** The bots a starting server must bring back: not archived and meant to run, whoever owns them, oldest first. */
  async toRestore(): Promise<BotRow[]> {
    return this.db.select().from(bots).where(and(eq(bots.desiredState, 'running'), isNull(bots.archivedAt))).orderBy(asc(bots.createdAt), asc(bots.id));
  }

  /**
   * Opens a run. A run still open is one whose end was never seen (the server died under it): it is
   * closed as `interrupted` at the same instant, so a bot has at most one open run.
   */
  async startRun(id: string): Promise<BotRunRow> {
    const now = this.clock.date();
    return this.db.transaction(async (tx) => {
      // Locks the bot row: two starts of one bot at once queue here, and the second closes the first's run.
      const [bot] = await tx.select({ id: bots.id }).from(bots).where(eq(bots.id, id)).for('update');
      if (!bot) throw notFound(id);
      await tx.update(botRuns).set({ status: 'interrupted', stoppedAt: now }).where(and(eq(botRuns.botId, id), isNull(botRuns.stoppedAt)));
      const [run] = await tx.insert(botRuns).values({ botId: id, startedAt: now, status: 'running' }).returning();
      return run!;
    });
  }

  /** Closes the bot's open run; null when it has none (its end was already recorded). */
  async endRun(id: string, end: RunEnd): Promise<BotRunRow | null> {
    const [run] = await this.db
      .update(botRuns)
      .set({ status: end.status, exitCode: end.exitCode ?? null, finalStatus: end.finalStatus ?? null, stoppedAt: this.clock.date() })
      .where(and(eq(botRuns.botId, id), isNull(botRuns.stoppedAt)))
      .returning();
    return run ?? null;
  }

  /** The exit code onto the bot's newest run, when its end recorded none; false when there was nothing to set. */
  async recordRunExit(id: string, exitCode: number): Promise<boolean> {
    const [last] = await this.db.select({ id: botRuns.id, exitCode: botRuns.exitCode }).from(botRuns).where(eq(botRuns.botId, id)).orderBy(desc(botRuns.startedAt), desc(botRuns.id)).limit(1);
    if (!last || last.exitCode !== null) return false;
    await this.db.update(botRuns).set({ exitCode }).where(and(eq(botRuns.id, last.id), isNull(botRuns.exitCode)));
    return true;
  }

  /** Newest first. */
  async runs(id: string, limit = 100): Promise<BotRunRow[]> {
    return this.db.select().from(botRuns).where(eq(botRuns.botId, id)).orderBy(desc(botRuns.startedAt), desc(botRuns.id)).limit(limit);
  }

  /** Stores each event once by its id; returns how many were new. */
  async addEvents(id: string, events: readonly NewBotEvent[]): Promise<number> {
    if (!events.length) return 0;
    const rows = await this.#insert(id, () =>
      this.db
        .insert(botEvents)
        .values(events.map((e) => ({ botId: id, eventId: e.eventId, type: e.type, at: e.at, data: e.data })))
        .onConflictDoNothing({ target: [botEvents.botId, botEvents.eventId] })
        .returning({ id: botEvents.id }),
    );
    return rows.length;
  }

  /** Oldest first, optionally of one type. */
  async events(id: string, opts: { type?: string; limit: number }): Promise<BotEventRow[]> {
    const conds = [eq(botEvents.botId, id)];
    if (opts.type) conds.push(eq(botEvents.type, opts.type));
    const rows = await this.db.select().from(botEvents).where(and(...conds)).orderBy(desc(botEvents.at), desc(botEvents.id)).limit(opts.limit);
    return rows.reverse();
  }

  /** Stores each fill once by its fill id (whoever delivers it, however often); returns how many were new. */
  async addFills(id: string, fills: readonly NewBotFill[]): Promise<number> {
    if (!fills.length) return 0;
    const values = fills.map((f) => ({
      botId: id,
      fillId: f.fillId,
      clientOrderId: f.clientOrderId,
      tradingPair: f.tradingPair,
      side: f.side,
      price: money(f.price, 'price'),
      amount: money(f.amount, 'amount'),
      fee: money(f.fee, 'fee'),
      feeAsset: f.feeAsset ?? null,
      at: f.at,
    }));
    const rows = await this.#insert(id, () => this.db.insert(botFills).values(values).onConflictDoNothing({ target: [botFills.botId, botFills.fillId] }).returning({ fillId: botFills.fillId }));
    return rows.length;
  }

  /** Newest first, by keyset on (at, fill_id). */
  async fills(id: string, p: { limit: number; cursor?: string }): Promise<Page<BotFillRow>> {
    const conds: SQL[] = [eq(botFills.botId, id)];
    if (p.cursor) {
      const c = keysetCursor(p.cursor);
      conds.push(or(lt(botFills.at, c.at), and(eq(botFills.at, c.at), lt(botFills.fillId, c.key)))!);
    }
    const rows = await this.db.select().from(botFills).where(and(...conds)).orderBy(desc(botFills.at), desc(botFills.fillId)).limit(p.limit + 1);
    return page(rows, p.limit, (r) => encodeKeysetCursor(r.at, r.fillId));
  }

  /** One snapshot per controller that reported figures (see snapshotRows); returns how many were stored. */
  async addPerformance(id: string, at: Date, report: Performance): Promise<number> {
    const values = snapshotRows(id, at, report);
    if (!values.length) return 0;
    const rows = await this.#insert(id, () => this.db.insert(botPerformance).values(values).returning({ id: botPerformance.id }));
    return rows.length;
  }

  /**
   * Many bots' reports in one insert, for an ingest that collects a second's worth of them (a thousand
   * bots reporting every second would be a thousand statements a second one by one). Reports of bots the
   * store does not know are left out. Returns how many snapshots were stored.
   */
  async addPerformanceBatch(reports: ReadonlyArray<{ botId: string; at: Date; report: Performance }>): Promise<number> {
    if (!reports.length) return 0;
    const values = reports.flatMap((r) => snapshotRows(r.botId, r.at, r.report));
    if (!values.length) return 0;
    // One JSON parameter unpacked by Postgres rather than eleven bound values a row: building and
    // sending a thousand-row VALUES list was most of the ingest's own CPU. The join leaves out bots the
    // store does not know (deleted meanwhile) in the same statement.
    const batch = JSON.stringify(
      values.map((v) => ({
        bot_id: v.botId,
        controller_id: v.controllerId,
        at: (v.at as Date).toISOString(),
        realized_pnl_quote: v.realizedPnlQuote,
        unrealized_pnl_quote: v.unrealizedPnlQuote,
        unrealized_pnl_pct: v.unrealizedPnlPct,
        realized_pnl_pct: v.realizedPnlPct,
        global_pnl_quote: v.globalPnlQuote,
        global_pnl_pct: v.globalPnlPct,
        volume_traded: v.volumeTraded,
        raw: v.raw,
      })),
    );
    const result = (await this.db.execute(sql`
      insert into ${botPerformance} (bot_id, controller_id, at, realized_pnl_quote, unrealized_pnl_quote, unrealized_pnl_pct, realized_pnl_pct, global_pnl_quote, global_pnl_pct, volume_traded, raw)
      select r.bot_id, r.controller_id, r.at, r.realized_pnl_quote, r.unrealized_pnl_quote, r.unrealized_pnl_pct, r.realized_pnl_pct, r.global_pnl_quote, r.global_pnl_pct, r.volume_traded, r.raw
      from jsonb_to_recordset(${batch}::jsonb) as r(bot_id text, controller_id text, at timestamptz, realized_pnl_quote numeric, unrealized_pnl_quote numeric, unrealized_pnl_pct numeric, realized_pnl_pct numeric, global_pnl_quote numeric, global_pnl_pct numeric, volume_traded numeric, raw jsonb)
      join ${bots} b on b.id = r.bot_id`)) as unknown as { rowCount?: number | null; affectedRows?: number; rows?: unknown[] };
    return result.rowCount ?? result.affectedRows ?? 0;
  }

  /** Deletes snapshots taken before `before` (all bots'), returning how many: the history's retention. */
  async prunePerformance(before: Date): Promise<number> {
    const rows = await this.db.delete(botPerformance).where(lt(botPerformance.at, before)).returning({ id: botPerformance.id });
    return rows.length;
  }

  /** The newest `limit` snapshots within [from, to], returned oldest first (a chart's order). */
  async performanceHistory(id: string, q: PerformanceQuery): Promise<BotPerformanceRow[]> {
    const conds: SQL[] = [eq(botPerformance.botId, id)];
    if (q.controllerId) conds.push(eq(botPerformance.controllerId, q.controllerId));
    if (q.from) conds.push(gte(botPerformance.at, q.from));
    if (q.to) conds.push(lte(botPerformance.at, q.to));
    const rows = await this.db.select().from(botPerformance).where(and(...conds)).orderBy(desc(botPerformance.at), desc(botPerformance.id)).limit(q.limit);
    return rows.reverse();
  }

  /**
   * Appends log lines and keeps the bot's newest `logLimit`, in one transaction. The bot row's `log_seq`
   * hands out the sequence numbers: bumping it locks the row, so one bot's batches are numbered and
   * pruned one after the other, and the prune is a single range delete on the primary key (every line
   * numbered at or below the newest minus the limit). A batch longer than the limit keeps its tail only.
   */
  async addLogs(id: string, lines: readonly NewBotLog[]): Promise<number> {
    if (!lines.length) return 0;
    return this.db.transaction(async (tx) => {
      const [bumped] = await tx
        .update(bots)
        .set({ logSeq: sql`${bots.logSeq} + ${lines.length}` })
        .where(eq(bots.id, id))
        .returning({ last: bots.logSeq });
      if (!bumped) throw notFound(id);
      const first = bumped.last - lines.length + 1;
      const kept = lines.slice(-this.logLimit);
      const offset = lines.length - kept.length;
      await tx.insert(botLogs).values(kept.map((l, i) => ({ botId: id, seq: first + offset + i, at: l.at, level: l.level.toUpperCase(), logger: l.logger ?? null, message: l.message })));
      await tx.delete(botLogs).where(and(eq(botLogs.botId, id), lte(botLogs.seq, bumped.last - this.logLimit)));
      return kept.length;
    });
  }

  /**
   * Many bots' log lines in one statement, for the ingest's flush (fifty bots logging a line each are
   * one statement, not fifty transactions of three). Numbering and pruning are addLogs' own: each bot's
   * `log_seq` is bumped by its count and its lines take the numbers below the new value; lines numbered
   * at or below the newest minus `logLimit` are deleted. The bot rows are locked in id order first, so
   * two batches (or a batch and one bot's addLogs) never wait on each other in a cycle; the ingest runs
   * it after its heartbeat batch, not beside it. Bots the store
   * does not have (deleted meanwhile) are left out. Returns how many lines were stored.
   */
  async addLogsBatch(byBot: ReadonlyMap<string, readonly NewBotLog[]>): Promise<number> {
    // n: the bot's lines in the batch (its log_seq moves by n, as in addLogs); k: those kept (the tail).
    const rows: Array<{ bot_id: string; n: number; k: number; i: number; at: string; level: string; logger: string | null; message: string }> = [];
    for (const id of [...byBot.keys()].sort()) {
      const lines = byBot.get(id)!;
      const kept = lines.slice(-this.logLimit);
      kept.forEach((l, i) => rows.push({ bot_id: id, n: lines.length, k: kept.length, i, at: l.at.toISOString(), level: l.level.toUpperCase(), logger: l.logger ?? null, message: l.message }));
    }
    if (!rows.length) return 0;
    const ids = [...byBot.keys()].sort();
    return this.db.transaction(async (tx) => {
      // The rows locked one by one in id order first: a statement's own join order is the planner's.
      await tx.execute(sql`select id from ${bots} where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)) order by id for no key update`);
      const result = (await tx.execute(sql`
        with v as (select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(bot_id text, n int, k int, i int, at timestamptz, level text, logger text, message text)),
        counts as (select bot_id, max(n) as n from v group by bot_id),
        bumped as (update ${bots} b set log_seq = b.log_seq + c.n from counts c where b.id = c.bot_id returning b.id, b.log_seq as last),
        pruned as (delete from ${botLogs} d using bumped where d.bot_id = bumped.id and d.seq <= bumped.last - ${this.logLimit})
        insert into ${botLogs} (bot_id, seq, at, level, logger, message)
        select v.bot_id, bumped.last - v.k + 1 + v.i, v.at, v.level, v.logger, v.message from v join bumped on bumped.id = v.bot_id`)) as unknown as { rowCount?: number | null; affectedRows?: number };
      return result.rowCount ?? result.affectedRows ?? 0;
    });
  }

  /** The ids of every deployed bot (not archived): what the ingest keeps in memory to take reports by. */
  async deployedIds(): Promise<string[]> {
    const rows = await this.db.select({ id: bots.id }).from(bots).where(isNull(bots.archivedAt));
    return rows.map((r) => r.id);
  }

  /** The newest `limit` lines (of one level when asked, e.g. ERROR; levels are kept upper-case), returned oldest first as a log reads. */
  async recentLogs(id: string, limit: number, level?: string): Promise<BotLogRow[]> {
    const conds = [eq(botLogs.botId, id)];
    if (level) conds.push(eq(botLogs.level, level.toUpperCase()));
    const rows = await this.db.select().from(botLogs).where(and(...conds)).orderBy(desc(botLogs.seq)).limit(limit);
    return rows.reverse();
  }

  /**
   * Retires a bot for good: desired state stopped, `archived_at` set once (archiving again keeps the
   * first time). Its runs, events, fills, performance and logs stay readable.
   */
  async archive(id: string): Promise<BotRow> {
    const now = this.clock.date();
    const [row] = await this.db
      .update(bots)
      .set({ desiredState: 'stopped', archivedAt: sql`coalesce(${bots.archivedAt}, ${now.toISOString()}::timestamptz)`, updatedAt: now })
      .where(eq(bots.id, id))
      .returning();
    if (!row) throw notFound(id);
    return row;
  }

  /** The error for an update that matched no live bot: there is no such bot, or it was archived. */
  async #archived(id: string, hint: string): Promise<AppError> {
    const row = await this.get(id);
    if (!row) return notFound(id);
    return new AppError('CONFLICT', `Bot ${id} was archived at ${row.archivedAt!.toISOString()}.`, { hint });
  }

  /** Runs an insert of rows under bot `id`, turning the foreign key's refusal into NOT_FOUND. */
  async #insert<T>(id: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (sqlState(err) === FOREIGN_KEY_VIOLATION) throw notFound(id);
      throw err;
    }
  }
}

const FOREIGN_KEY_VIOLATION = '23503';

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

const notFound = (id: string) => new AppError('NOT_FOUND', `No bot ${id}.`, { hint: 'List bots with GET /bot-orchestration/bots.' });

function money(v: Decimal | string, field: string): string {
  let d: Decimal;
  try {
    d = new Decimal(v);
  } catch {
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${field}: "${String(v)}" is not a number.`);
  }
  if (!d.isFinite() || d.abs().gte(MAX_AMOUNT)) throw new AppError('VALIDATION_FAILED', `Invalid input: ${field}: ${d.toString()} is out of range.`);
  return d.toFixed();
}

function page<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T> {
  const data = rows.slice(0, limit);
  const more = rows.length > limit;
  const last = data[data.length - 1];
  return { data, pagination: { limit, has_more: more, next_cursor: more && last ? cursorOf(last) : null } };
}
