import { encodeKeysetCursor as encodeBotCursor, keysetCursor as decodeBotCursor } from '../../src/core/keyset-cursor.js';
import type { BotListFilter, BotViewer, Page, PerformanceQuery } from '../../src/core/bots/bot-records.js';
import { BotStore } from '../../src/core/bots/bot-store.js';
import type { BotControl, BotStatus, DeployBot } from '../../src/core/bots/control.js';
import type { Clock } from '../../src/core/clock.js';
import type { BotEventRow, BotFillRow, BotLogRow, BotPerformanceRow, BotRow, BotRunRow, BotStrategy } from '../../src/core/db/schema/index.js';
import { AppError } from '../../src/core/errors.js';

export interface Call {
  method: keyof BotControl;
  args: unknown[];
}

/** What a bot reported, seeded by a test for the read commands to find. */
export interface Reports {
  runs: BotRunRow[];
  fills: BotFillRow[];
  events: BotEventRow[];
  performance: BotPerformanceRow[];
  logs: BotLogRow[];
  /** The bot's status answer while it runs. */
  live: Record<string, unknown> | null;
}

/**
 * An in-memory BotControl for the bot commands' tests: it keeps bots as rows, answers as the
 * orchestrator's interface promises, and records every call with its arguments, so a test can check
 * what a command asked for (and that a refused call asked for nothing).
 */
export class FakeBotControl implements BotControl {
  readonly calls: Call[] = [];
  readonly rows = new Map<string, BotRow>();
  readonly reports = new Map<string, Reports>();

  constructor(private readonly clock: Clock) {}

  /** The calls of one method (every command calls `get` first, which is rarely what a test asks about). */
  callsOf(method: keyof BotControl): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  reportsOf(id: string): Reports {
    let r = this.reports.get(id);
    if (!r) {
      r = { runs: [], fills: [], events: [], performance: [], logs: [], live: null };
      this.reports.set(id, r);
    }
    return r;
  }

  #record(method: keyof BotControl, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  #row(id: string): BotRow {
    const row = this.rows.get(id);
    if (!row) throw new AppError('NOT_FOUND', `There is no bot ${id}.`);
    return row;
  }

  #set(id: string, change: Partial<BotRow>): BotRow {
    const row = { ...this.#row(id), ...change, updatedAt: this.clock.date() };
    this.rows.set(id, row);
    return row;
  }

  async deploy(req: DeployBot): Promise<BotRow> {
    this.#record('deploy', req);
    if (this.rows.has(req.id)) throw new AppError('CONFLICT', `A bot with the id ${req.id} already exists.`);
    const now = this.clock.date();
    const running = req.start !== false;
    const row: BotRow = {
      id: req.id,
      name: req.name ?? req.id,
      accountName: req.accountName,
      ownerName: req.owner.name,
      owner: req.owner,
      channel: req.channel,
      runtime: req.runtime ?? 'child',
      image: req.image ?? null,
      onRestart: req.onRestart ?? 'resume',
      strategy: req.strategy,
      desiredState: running ? 'running' : 'stopped',
      observedState: running ? 'running' : 'stopped',
      exitCode: null,
      lastHeartbeatAt: running ? now : null,
      logSeq: 0,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
    };
    this.rows.set(req.id, row);
    return row;
  }

  async get(id: string): Promise<BotRow | undefined> {
    this.#record('get', id);
    return this.rows.get(id);
  }

  async list(viewer: BotViewer, f: BotListFilter): Promise<Page<BotRow>> {
    this.#record('list', viewer, f);
    const after = f.cursor ? decodeBotCursor(f.cursor) : null;
    const rows = [...this.rows.values()]
      .filter((r) => BotStore.visible(r, viewer))
      .filter((r) => (!f.desired || r.desiredState === f.desired) && (!f.observed || r.observedState === f.observed) && (f.includeArchived || r.archivedAt === null))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .filter((r) => !after || r.createdAt < after.at || (r.createdAt.getTime() === after.at.getTime() && r.id < after.key));
    const data = rows.slice(0, f.limit);
    const more = rows.length > f.limit;
    const last = data[data.length - 1];
    return { data, pagination: { limit: f.limit, has_more: more, next_cursor: more && last ? encodeBotCursor(last.createdAt, last.id) : null } };
  }

  async start(id: string): Promise<BotRow> {
    this.#record('start', id);
    if (this.#row(id).archivedAt) throw new AppError('CONFLICT', `Bot ${id} is archived.`);
    return this.#set(id, { desiredState: 'running', observedState: 'running' });
  }

  async stop(id: string, opts: { skipOrderCancellation: boolean }): Promise<BotRow> {
    this.#record('stop', id, opts);
    return this.#set(id, { desiredState: 'stopped', observedState: 'stopped' });
  }

  async updateConfig(id: string, strategy: BotStrategy): Promise<{ bot: BotRow; applied: 'bot' | 'stored' }> {
    this.#record('updateConfig', id, strategy);
    const running = this.#row(id).observedState === 'running';
    return { bot: this.#set(id, { strategy }), applied: running ? 'bot' : 'stored' };
  }

  async status(id: string): Promise<BotStatus> {
    this.#record('status', id);
    const bot = this.#row(id);
    const r = this.reportsOf(id);
    const running = bot.observedState === 'running';
    return {
      bot,
      run: r.runs[0] ?? null,
      live: running ? r.live : null,
      liveSource: running && r.live ? 'bot' : null,
      crash: bot.observedState === 'error' ? { exitCode: bot.exitCode, tail: r.logs.slice(-3).map((l) => l.message) } : null,
      recentLogs: r.logs.slice(-20),
    };
  }

  async logs(id: string, q: { limit: number; level?: string }): Promise<BotLogRow[]> {
    this.#record('logs', id, q);
    this.#row(id);
    return this.reportsOf(id).logs.filter((l) => !q.level || l.level === q.level).slice(-q.limit);
  }

  async fills(id: string, p: { limit: number; cursor?: string }): Promise<Page<BotFillRow>> {
    this.#record('fills', id, p);
    this.#row(id);
    const after = p.cursor ? decodeBotCursor(p.cursor) : null;
    const rows = [...this.reportsOf(id).fills]
      .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.fillId < b.fillId ? 1 : -1))
      .filter((f) => !after || f.at < after.at || (f.at.getTime() === after.at.getTime() && f.fillId < after.key));
    const data = rows.slice(0, p.limit);
    const more = rows.length > p.limit;
    const last = data[data.length - 1];
    return { data, pagination: { limit: p.limit, has_more: more, next_cursor: more && last ? encodeBotCursor(last.at, last.fillId) : null } };
  }

  async events(id: string, q: { type?: string; limit: number }): Promise<BotEventRow[]> {
    this.#record('events', id, q);
    this.#row(id);
    return this.reportsOf(id).events.filter((e) => !q.type || e.type === q.type).slice(-q.limit);
  }

  async performance(id: string, q: PerformanceQuery): Promise<BotPerformanceRow[]> {
    this.#record('performance', id, q);
    this.#row(id);
    return this.reportsOf(id)
      .performance.filter((p) => (!q.controllerId || p.controllerId === q.controllerId) && (!q.from || p.at >= q.from) && (!q.to || p.at <= q.to))
      .slice(-q.limit);
  }

  async runs(id: string, limit = 100): Promise<BotRunRow[]> {
    this.#record('runs', id, limit);
    this.#row(id);
    return this.reportsOf(id).runs.slice(0, limit);
  }

  async archive(id: string): Promise<BotRow> {
    this.#record('archive', id);
    return this.#set(id, { desiredState: 'stopped', observedState: 'stopped', archivedAt: this.clock.date() });
  }

  async importStrategy(id: string, name: string): Promise<never> {
    this.#record('importStrategy', id, name);
    throw new AppError('NOT_SUPPORTED', `Bot ${id} cannot import ${name}.`);
  }

  async stopBotsFor(accounts: readonly string[] | null, reason: string): Promise<string[]> {
    this.#record('stopBotsFor', accounts, reason);
    return [];
  }
}
