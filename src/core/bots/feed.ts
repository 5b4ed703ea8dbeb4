import { z } from 'zod';
import type { Logger } from '../logger.js';
import { botIdSchema } from './topics.js';

/**
 * What the bots' live view carries: `state`, each observed state the orchestrator records (starting,
 * running, stopped, error, unreachable, archived); `status`, a bot's status updates (availability
 * online/offline); `log`, a log line it sent; `performance`, its performance report. `data` is as the
 * bot sent it (or as the server recorded it): a reader masks secret-named fields before it leaves.
 */
export type BotFeedKind = 'status' | 'log' | 'performance' | 'state';

export interface BotFeedEvent {
  bot_id: string;
  kind: BotFeedKind;
  data: Record<string, unknown>;
  at: Date;
}

export type BotFeedListener = (e: BotFeedEvent) => void;

/**
 * An in-process fan-out of bot events, from the ingest and the orchestrator to the live view's
 * connections. Publishers check `listening` before they build an event, so a server nobody watches pays
 * one property read per report. Delivery is synchronous; a listener must not block (the stream only
 * queues on a socket) and a throwing listener is logged and skipped, never the publisher's problem.
 */
export class BotFeed {
  readonly #listeners = new Set<BotFeedListener>();
  /**
   * The last state published per bot, so that a state recorded twice (a heartbeat and the launch both
   * saying running) is one event. Kept only while someone listens: a state seen by nobody must not hide
   * the next change from a later listener.
   */
  readonly #lastState = new Map<string, string>();

  constructor(private readonly logger?: Pick<Logger, 'warn'>) {}

  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Adds a listener; returns its removal. */
  subscribe(listener: BotFeedListener): () => void {
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: BotFeedListener = (e) => listener(e);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
      if (this.#listeners.size === 0) this.#lastState.clear();
    };
  }

  /** A bot's observed state, published when it differs from the last one published. */
  publishState(botId: string, state: string, exitCode: number | null, at: Date): void {
    if (!this.listening) return;
    const key = `${state}|${exitCode ?? ''}`;
    if (this.#lastState.get(botId) === key) return;
    if (this.#lastState.size > 100_000) this.#lastState.clear();
    this.#lastState.set(botId, key);
    this.publish({ bot_id: botId, kind: 'state', data: { state, exit_code: exitCode }, at });
  }

  publish(e: BotFeedEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger?.warn('a bot feed listener failed', { bot_id: e.bot_id, kind: e.kind, err });
      }
    }
  }
}

/** What a client sends on WS /bot-orchestration/stream. */
export const BotStreamRequest = z.strictObject({
  action: z.enum(['subscribe', 'unsubscribe']),
  bot_ids: z.array(botIdSchema).min(1).max(100).optional().describe('The bots to (un)subscribe; omitted: every bot you can see, including ones deployed later.'),
});
export type BotStreamRequest = z.infer<typeof BotStreamRequest>;

/** Most bots one connection may name. */
export const MAX_STREAM_BOTS = 1_000;
