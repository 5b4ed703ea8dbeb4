import { z } from 'zod';
import type { RpcBus, ServedRequest } from '../core/bots/bus.js';
import type { MqttLink } from '../core/bots/link.js';
import type { ResponseData } from '../core/bots/protocol/envelope.js';
import type { Performance } from '../core/bots/protocol/reports.js';
import { botPrefix, REPORT_QOS } from '../core/bots/topics.js';
import type { Clock } from '../core/clock.js';
import { AppError, toAppError } from '../core/errors.js';

/**
 * A bot's MQTT face, in Hummingbot's layout so our orchestrator drives our bots and real Hummingbot bots
 * the same way: `availability` online on start and offline on shutdown (Hummingbot sends no offline on
 * stop; we do), a heartbeat `{ts: µs}` every 10 s, `performance` every second while the strategy runs,
 * `log` lines, and the RPCs start, stop, status, config, history and import, each answered in the RPC
 * envelope with status 200 or 400 and a reason — including the requests a Hummingbot bot drops
 * silently (config params sent as a dict, import when headless). What runs is the StrategyHost's.
 */

export interface StrategyHost {
  /** Starts the strategy (again, after a stop); resolves with what now runs. */
  start(): Promise<string>;
  /** Stops it: executors end (their orders cancelled unless `skipOrderCancellation`). */
  stop(opts: { skipOrderCancellation: boolean }): Promise<string>;
  running(): boolean;
  /** What the status RPC shows: what runs, its executors and PnL. */
  status(): Record<string, unknown>;
  /** The strategy's config as the config RPC shows it. */
  config(): Record<string, unknown>;
  /** Applies [key, value] changes, each checked against the strategy's schema first (an AppError names the bad keys); resolves with the new config. */
  setConfig(changes: ReadonlyArray<readonly [string, unknown]>): Promise<Record<string, unknown>>;
  /** Trades of the last `days` days (0: all). */
  history(days: number): Array<Record<string, unknown>>;
  /** Per controller id its PerformanceReport and custom info, as the performance topic carries it. */
  performance(): Performance;
}

export interface AgentOptions {
  botId: string;
  link: MqttLink;
  /** A bus on `link` whose replies filter lies under the bot's own prefix. */
  bus: RpcBus;
  clock: Clock;
  host: StrategyHost;
  heartbeatMs?: number;
  performanceMs?: number;
}

/** Python's logging levels, which Hummingbot's log topic carries. */
const LEVELS = { debug: 10, info: 20, warning: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

const StartReq = z.looseObject({ log_level: z.string().optional(), script: z.string().optional(), conf: z.string().optional() });
const StopReq = z.looseObject({ skip_order_cancellation: z.boolean().default(false) });
const ConfigReq = z.looseObject({
  params: z.array(z.tuple([z.string(), z.unknown()]), { error: 'params must be a list of [key, value] pairs (an empty list reads the config)' }).default([]),
});
const HistoryReq = z.looseObject({ days: z.number().min(0).default(0), verbose: z.boolean().default(false) });

export class BotAgent {
  readonly #prefix: string;
  #timers: NodeJS.Timeout[] = [];
  #perfTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: AgentOptions) {
    this.#prefix = botPrefix(o.botId);
  }

  /** Serves the RPCs, says it is online and starts the heartbeat. */
  async start(): Promise<void> {
    await this.o.bus.start();
    const rpcs: Record<string, (data: Record<string, unknown>) => Promise<ResponseData>> = {
      start: (d) => this.#start(d),
      stop: (d) => this.#stop(d),
      status: async () => ({ status: 200, msg: this.o.host.running() ? 'running' : 'stopped', data: this.o.host.status() }),
      config: (d) => this.#config(d),
      history: async (d) => {
        const req = HistoryReq.parse(d);
        return { status: 200, msg: '', trades: this.o.host.history(req.days) };
      },
      import: async () => ({ status: 400, msg: 'This bot runs the strategy it was deployed with: change it with a config update (PUT /bot-orchestration/bots/{id}/config) or a new deploy.' }),
    };
    for (const [name, handle] of Object.entries(rpcs)) {
      await this.o.bus.serve(`${this.#prefix}${name}`, (req: ServedRequest) => answer(() => handle(req.data)));
    }
    await this.announce();
    await this.#heartbeat();
    this.#timers.push(setInterval(() => void this.#heartbeat(), this.o.heartbeatMs ?? 10_000));
    if (this.o.host.running()) this.#reportPerformance();
  }

  /** Says it is online (at start, and again after a reconnect: a restarted broker forgot everything). */
  async announce(): Promise<void> {
    await this.#publish('status_updates', { timestamp: this.o.clock.now(), type: 'availability', msg: 'online' });
  }

  /** Says it is going offline, then stops every timer and the bus. */
  async shutdown(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#stopPerformance();
    await this.#publish('status_updates', { timestamp: this.o.clock.now(), type: 'availability', msg: 'offline' }).catch(() => undefined);
    this.o.bus.stop();
  }

  /** Publishes one log line (timestamp in float seconds, as Hummingbot does). */
  async log(level: LogLevel, msg: string, logger = 'tradedesk.bot'): Promise<void> {
    await this.#publish('log', { timestamp: this.o.clock.now() / 1000, msg, level_no: LEVELS[level], level_name: level.toUpperCase(), logger_name: logger });
  }

  async #start(data: Record<string, unknown>): Promise<ResponseData> {
    const req = StartReq.parse(data);
    if (req.script !== undefined || req.conf !== undefined) {
      return { status: 400, msg: 'This bot runs the strategy it was deployed with; start takes no script or conf.' };
    }
    if (this.o.host.running()) return { status: 200, msg: 'The strategy is already running.' };
    const what = await this.o.host.start();
    this.#reportPerformance();
    await this.log('info', `started: ${what}`);
    return { status: 200, msg: what };
  }

  async #stop(data: Record<string, unknown>): Promise<ResponseData> {
    const req = StopReq.parse(data);
    if (!this.o.host.running()) return { status: 200, msg: 'The strategy is not running.' };
    const what = await this.o.host.stop({ skipOrderCancellation: req.skip_order_cancellation });
    this.#stopPerformance();
    // As Hummingbot does: one empty report per controller once stopped.
    await this.#publish('performance', Object.fromEntries(Object.keys(this.o.host.performance()).map((k) => [k, {}])));
    await this.log('info', `stopped: ${what}`);
    return { status: 200, msg: what };
  }

  async #config(data: Record<string, unknown>): Promise<ResponseData> {
    const req = ConfigReq.safeParse(data);
    if (!req.success) return { status: 400, msg: req.error.issues.map((i) => i.message).join('; ') };
    const changes = req.data.params;
    const strategy = changes.length === 0 ? this.o.host.config() : await this.o.host.setConfig(changes);
    return { status: 200, msg: '', changes: changes.map(([k]) => k), config: { client: { instance_id: this.o.botId }, strategy } };
  }

  async #heartbeat(): Promise<void> {
    await this.#publish('hb', { ts: this.o.clock.now() * 1000 }).catch(() => undefined);
  }

  #reportPerformance(): void {
    if (this.#perfTimer) return;
    this.#perfTimer = setInterval(() => void this.#publish('performance', this.o.host.performance()).catch(() => undefined), this.o.performanceMs ?? 1000);
  }

  #stopPerformance(): void {
    if (this.#perfTimer) clearInterval(this.#perfTimer);
    this.#perfTimer = null;
  }

  #publish(topic: keyof typeof REPORT_QOS, payload: unknown): Promise<void> {
    return this.o.link.publish(`${this.#prefix}${topic}`, JSON.stringify(payload), REPORT_QOS[topic]);
  }
}

/** Runs an RPC handler: a refusal (AppError, bad request data) is a 400 with its reason, never silence. */
async function answer(handle: () => Promise<ResponseData>): Promise<ResponseData> {
  try {
    return await handle();
  } catch (err) {
    if (err instanceof z.ZodError) return { status: 400, msg: err.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ') };
    const e = toAppError(err);
    return { status: 400, msg: e instanceof AppError && e.code !== 'INTERNAL' ? `${e.code}: ${e.message}` : 'The request failed on an internal error.', ...(e.details ? { details: e.details } : {}) };
  }
}
