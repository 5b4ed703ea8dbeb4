import { isRetryableConflict } from '../db/errors.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { NewBotEvent, NewBotFill, NewBotLog } from './bot-records.js';
import type { BotStore } from './bot-store.js';
import type { BotFeed, BotFeedKind } from './feed.js';
import { epochMs, fillOf, isFillEvent } from './fill-event.js';
import type { MqttLink } from './link.js';
import { quickHeartbeat, quickPerformance } from './protocol/quick-checks.js';
import { Heartbeat, InternalEvent, LogMessage, Performance, StatusUpdate } from './protocol/reports.js';
import { BOT_NAMESPACE, isBotId, REPORT_QOS } from './topics.js';

/**
 * What bots report, into the bots store. The server subscribes to every bot's `hb`,
 * `status_updates`, `log`, `events` and `performance` (at REPORT_QOS), reads each message with its schema
 * (protocol/reports.ts) and buffers it; a flush every `flushMs` (or once `maxBatch` messages wait)
 * writes the buffer in a few statements: all heartbeats in one, all performance reports in one, each
 * bot's logs, events and fills in one each. A thousand bots beating and reporting every second are
 * then a handful of statements a second, not thousands.
 *
 * Messages from ids that are not deployed bots (no row, or archived) are dropped. A malformed message
 * is logged once per bot and kind, then dropped; nothing a bot sends can stop the ingest. Events are
 * stored once by their id: a redelivery is a no-op. A Hummingbot bot's events carry no id, so theirs is
 * a hash of the message as sent (a redelivery is the same bytes).
 */

export const REPORT_TOPICS = ['hb', 'status_updates', 'log', 'events', 'performance'] as const;
type Topic = (typeof REPORT_TOPICS)[number];



export interface IngestOptions {
  link: MqttLink;
  store: BotStore;
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** Whether `id` is a deployed bot (a row that is not archived); the ingest caches the answer for `knownTtlMs`. */
  deployed(id: string): Promise<boolean>;
  /**
   * Every deployed bot's id, read again every `knownTtlMs` in one query: a known bot's reports are then
   * taken without a lookup of its own (a thousand bots were two hundred lookups a second). Ids not in
   * it are asked of `deployed`. Absent: every id is asked of `deployed`.
   */
  allDeployed?(): Promise<Iterable<string>>;
  flushMs?: number;
  maxBatch?: number;
  knownTtlMs?: number;
  /** Performance snapshots older than this are pruned (default 30 days), every `pruneEveryMs` (default 1 h). */
  performanceRetentionMs?: number;
  pruneEveryMs?: number;
  /** The live view: status updates, log lines and performance reports are published as they arrive, before the buffered write. */
  feed?: BotFeed;
}

/** What the orchestrator hears at once, before the buffered write: a bot says it is online, beats, or goes offline. */
export type Presence = { botId: string; kind: 'online' | 'heartbeat' | 'offline' };

const PYTHON_LEVELS: Record<number, string> = { 10: 'DEBUG', 20: 'INFO', 30: 'WARNING', 40: 'ERROR', 50: 'CRITICAL' };

export class BotIngest {
  readonly #listeners: Array<(p: Presence) => void> = [];
  readonly #known = new Map<string, { deployed: boolean; until: number }>();
  readonly #lookups = new Map<string, Promise<boolean>>();
  readonly #warned = new Set<string>();
  #deployedSet: Set<string> | null = null;
  #deployedSetUntil = -Infinity;
  #deployedSetRead: Promise<void> | null = null;
  /** Ids invalidated while the set was being read: the read may predate their change, so they are left out of it. */
  #invalidatedDuringRead = new Set<string>();
  #beats: Array<{ id: string; at: Date }> = [];
  #perf: Array<{ botId: string; at: Date; report: Performance }> = [];
  #logs = new Map<string, NewBotLog[]>();
  #events = new Map<string, NewBotEvent[]>();
  #fills = new Map<string, NewBotFill[]>();
  #pending = 0;
  #flushing: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #stopListening: (() => void) | null = null;

  constructor(private readonly o: IngestOptions) {}

  async start(): Promise<void> {
    if (this.#stopListening) return;
    this.#stopListening = this.o.link.onMessage((topic, payload) => this.#receive(topic, payload));
    for (const t of REPORT_TOPICS) await this.o.link.subscribe(`${BOT_NAMESPACE}/+/${t}`, REPORT_QOS[t]);
    this.#timers.push(setInterval(() => void this.flush(), this.o.flushMs ?? 250));
    const prune = setInterval(() => void this.prune(), this.o.pruneEveryMs ?? 3_600_000);
    prune.unref();
    this.#timers.push(prune);
  }

  /** Stops listening and writes what is buffered. */
  async stop(): Promise<void> {
    this.#stopListening?.();
    this.#stopListening = null;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.flush();
  }

  onPresence(listener: (p: Presence) => void): void {
    this.#listeners.push(listener);
  }

  /** Forgets the cached answer for `id` (a bot just deployed or archived). */
  invalidate(id: string): void {
    this.#known.delete(id);
    this.#deployedSet?.delete(id);
    if (this.#deployedSetRead) this.#invalidatedDuringRead.add(id);
  }

  /** Deletes performance snapshots past the retention; returns how many. */
  async prune(): Promise<number> {
    try {
      return await this.o.store.prunePerformance(new Date(this.o.clock.now() - (this.o.performanceRetentionMs ?? 30 * 86_400_000)));
    } catch (err) {
      this.o.logger.warn('pruning old bot performance failed', { err });
      return 0;
    }
  }

  /**
   * The fills a bot listed in its `history` answer, asked for after a reconnect: those sent while no
   * one listened are stored now, the others are already there (a fill is stored once by its id). A trade
   * without an id of its own is skipped: it could not be told apart from one already stored. Returns
   * how many were new.
   */
  async storeHistory(botId: string, trades: readonly unknown[]): Promise<number> {
    const fills: NewBotFill[] = [];
    for (const t of trades) {
      if (!t || typeof t !== 'object') continue;
      const data = t as Record<string, unknown>;
      try {
        const fill = fillOf('', typeof data.timestamp === 'number' ? data.timestamp : this.o.clock.now(), data);
        if (fill.fillId) fills.push(fill);
      } catch (err) {
        this.#warnOnce(botId, 'history', 'a bot listed a trade that cannot be read as a fill; it is skipped', { reason: (err as Error).message });
      }
    }
    return this.o.store.addFills(botId, fills);
  }

  /** Writes everything buffered; flushes run one after the other. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  #receive(topic: string, payload: Buffer): void {
    const [ns, botId = '', kind, ...rest] = topic.split('/');
    if (ns !== BOT_NAMESPACE || rest.length || !isBotId(botId) || !(REPORT_TOPICS as readonly string[]).includes(kind ?? '')) return;
    let deployed: boolean | Promise<boolean>;
    try {
      deployed = this.#isDeployed(botId);
    } catch (err) {
      // Nothing may throw into the broker's delivery: a lookup that fails at once is one lost report, warned.
      return this.#warnOnce(botId, kind ?? '', 'a bot report could not be handled', { err });
    }
    // A known bot's report is taken at once; one waiting on a lookup is taken when it answers.
    if (deployed === true) return this.#takeSafely(botId, kind as Topic, payload);
    if (deployed === false) return;
    deployed.then(
      (yes) => yes && this.#takeSafely(botId, kind as Topic, payload),
      (err: unknown) => this.#warnOnce(botId, kind ?? '', 'a bot report could not be handled', { err }),
    );
  }

  #takeSafely(botId: string, kind: Topic, payload: Buffer): void {
    try {
      this.#take(botId, kind, payload);
    } catch (err) {
      this.#warnOnce(botId, kind, 'a bot report could not be handled', { err });
    }
  }

  #take(botId: string, kind: Topic, payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.#warnOnce(botId, kind, 'a bot sent a report that is not JSON; such reports are dropped');
    }
    const now = this.o.clock.now();
    switch (kind) {
      case 'hb': {
        if (!quickHeartbeat(json) && !this.#valid(botId, kind, Heartbeat, json)) return;
        this.#beats.push({ id: botId, at: new Date(now) });
        this.#tell({ botId, kind: 'heartbeat' });
        break;
      }
      case 'status_updates': {
        const s = this.#valid(botId, kind, StatusUpdate, json);
        if (!s) return;
        if (s.type === 'availability' && (s.msg === 'online' || s.msg === 'offline')) this.#tell({ botId, kind: s.msg });
        const at = new Date(s.timestamp ? epochMs(s.timestamp) : now);
        push(this.#logs, botId, { at, level: 'INFO', logger: 'status_updates', message: `${s.type}: ${s.msg}` });
        if (this.o.feed?.listening) this.#publish(botId, 'status', s, at);
        break;
      }
      case 'log': {
        const l = this.#valid(botId, kind, LogMessage, json);
        if (!l) return;
        const level = l.level_name ?? (l.level_no !== undefined ? (PYTHON_LEVELS[l.level_no] ?? `LEVEL${l.level_no}`) : 'INFO');
        const line = { at: new Date(epochMs(l.timestamp)), level, logger: l.logger_name ?? null, message: l.msg };
        push(this.#logs, botId, line);
        if (this.o.feed?.listening) this.#publish(botId, 'log', { level, logger: line.logger, message: line.message }, line.at);
        break;
      }
      case 'events': {
        const e = this.#valid(botId, kind, InternalEvent, json);
        if (!e) return;
        const given = (json as Record<string, unknown>).id ?? (json as Record<string, unknown>).event_id;
        const eventId = typeof given === 'string' && given && given.length <= 200 ? given : createHash('sha256').update(payload).digest('hex');
        push(this.#events, botId, { eventId, type: e.type, at: new Date(epochMs(e.timestamp)), data: e.data });
        if (isFillEvent(e.type)) {
          try {
            push(this.#fills, botId, fillOf(eventId, e.timestamp, e.data));
          } catch (err) {
            this.#warnOnce(botId, 'fill', 'a bot sent a fill event that cannot be read as a fill; the event is kept, the fill is not', { reason: (err as Error).message });
          }
        }
        break;
      }
      case 'performance': {
        const p = quickPerformance(json) ? json : this.#valid(botId, kind, Performance, json);
        if (!p) return;
        this.#perf.push({ botId, at: new Date(now), report: p });
        if (this.o.feed?.listening) this.#publish(botId, 'performance', p, new Date(now));
        break;
      }
    }
    if (++this.#pending >= (this.o.maxBatch ?? 1_000)) void this.flush();
  }

  #valid<T>(botId: string, kind: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, json: unknown): T | null {
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    this.#warnOnce(botId, kind, 'a bot sent a malformed report; such reports are dropped', {
      issues: r.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    });
    return null;
  }

  #warnOnce(botId: string, kind: string, msg: string, fields: Record<string, unknown> = {}): void {
    const key = `${botId}\n${kind}`;
    if (this.#warned.has(key)) return;
    if (this.#warned.size > 10_000) this.#warned.clear();
    this.#warned.add(key);
    this.o.logger.warn(msg, { bot_id: botId, topic: kind, ...fields });
  }

  #publish(botId: string, kind: BotFeedKind, data: Record<string, unknown>, at: Date): void {
    this.o.feed!.publish({ bot_id: botId, kind, data, at });
  }

  #tell(p: Presence): void {
    for (const l of this.#listeners) {
      try {
        l(p);
      } catch (err) {
        this.o.logger.warn('a bot presence listener failed', { bot_id: p.botId, err });
      }
    }
  }

  /** Bots a heartbeat proved running (they were starting or unreachable): a state change the live view shows. */
  #woke(ids: string[]): void {
    const feed = this.o.feed;
    if (!feed?.listening) return;
    const at = this.o.clock.date();
    for (const id of ids) feed.publishState(id, 'running', null, at);
  }

  #isDeployed(id: string): boolean | Promise<boolean> {
    const now = this.o.clock.now();
    if (this.o.allDeployed) {
      if (now >= this.#deployedSetUntil && !this.#deployedSetRead) this.#readDeployedSet();
      // The set answers at once (the old one while a fresh one is read), unless this bot's own lookup
      // is running: its reports wait on that, in the order they came.
      if (this.#deployedSet?.has(id) && !this.#lookups.has(id)) return true;
    }
    const hit = this.#known.get(id);
    if (hit && hit.until > now) return hit.deployed;
    // Messages arriving while a lookup runs wait on that same lookup, so one bot's reports are taken in
    // the order they came (two lookups could answer out of order: a heartbeat before its `online`).
    const running = this.#lookups.get(id);
    if (running) return running;
    const lookup = this.o
      .deployed(id)
      .then((deployed) => {
        if (this.#known.size > 100_000) this.#known.clear();
        this.#known.set(id, { deployed, until: this.o.clock.now() + (this.o.knownTtlMs ?? 5_000) });
        return deployed;
      })
      .finally(() => this.#lookups.delete(id));
    this.#lookups.set(id, lookup);
    return lookup;
  }

  #readDeployedSet(): void {
    this.#invalidatedDuringRead.clear();
    this.#deployedSetRead = this.o.allDeployed!()
      .then((ids) => {
        const set = new Set(ids);
        for (const id of this.#invalidatedDuringRead) set.delete(id);
        this.#deployedSet = set;
        this.#deployedSetUntil = this.o.clock.now() + (this.o.knownTtlMs ?? 5_000);
      })
      .catch((err: unknown) => {
        // The per-id lookups still answer; the set is tried again at the next report.
        this.o.logger.warn('reading the deployed bots failed', { err });
        this.#deployedSetUntil = this.o.clock.now() + (this.o.knownTtlMs ?? 5_000);
      })
      .finally(() => {
        this.#deployedSetRead = null;
        this.#invalidatedDuringRead.clear();
      });
  }

  async #write(): Promise<void> {
    const beats = this.#beats;
    const perf = this.#perf;
    const logs = this.#logs;
    const events = this.#events;
    const fills = this.#fills;
    this.#beats = [];
    this.#perf = [];
    this.#logs = new Map();
    this.#events = new Map();
    this.#fills = new Map();
    this.#pending = 0;
    const writes: Array<[string, string | null, () => Promise<unknown>]> = [];
    // The heartbeats first, the log lines once they are written, not beside them: both update many bot
    // rows, and the heartbeat statement locks them in its plan's order. The rest runs beside them.
    let beatsWritten: Promise<unknown> = Promise.resolve();
    if (beats.length) writes.push(['heartbeats', null, () => (beatsWritten = this.o.store.heartbeats(beats).then((woken) => this.#woke(woken)))]);
    if (perf.length) writes.push(['performance', null, () => this.o.store.addPerformanceBatch(perf)]);
    if (logs.size) writes.push(['logs', null, () => beatsWritten.catch(() => undefined).then(() => this.o.store.addLogsBatch(logs))]);
    for (const [id, list] of events) writes.push(['events', id, () => this.o.store.addEvents(id, list)]);
    for (const [id, list] of fills) writes.push(['fills', id, () => this.o.store.addFills(id, list)]);
    // One failing write does not hold the others back; one Postgres aborted to break a deadlock wrote
    // nothing and is run once more, so a batch of reports is not lost to it.
    const once = (w: () => Promise<unknown>) => w().catch((err: unknown) => (isRetryableConflict(err) ? w() : Promise.reject(err)));
    const results = await Promise.allSettled(writes.map(([, , w]) => once(w)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const [what, id] = writes[i]!;
      // A bot archived and deleted meanwhile (NOT_FOUND) is not worth a warning; anything else is.
      if ((r.reason as { code?: string })?.code === 'NOT_FOUND') return;
      if (id) this.#warnOnce(id, `write:${what}`, `writing a bot's ${what} failed`, { err: r.reason });
      else this.o.logger.warn(`writing bots' ${what} failed`, { err: r.reason });
    });
  }
}

function push<T>(m: Map<string, T[]>, key: string, v: T): void {
  const list = m.get(key);
  if (list) list.push(v);
  else m.set(key, [v]);
}

