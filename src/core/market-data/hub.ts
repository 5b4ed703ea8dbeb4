import type { Logger } from '../logger.js';
import type { CandleInterval } from '../exchange/types.js';
import type { MarketData } from './market-data.js';

export type StreamChannel = 'ticker' | 'orderbook' | 'trades' | 'candles';

export interface FeedKey {
  connector_name: string;
  trading_pair: string;
  channel: StreamChannel;
  /** Candles only. */
  interval?: CandleInterval;
}

export interface FeedMessage {
  type: StreamChannel;
  connector_name: string;
  trading_pair: string;
  interval?: CandleInterval;
  data: unknown;
}

export type FeedListener = (msg: FeedMessage) => void;

interface Feed {
  key: FeedKey;
  listeners: Set<FeedListener>;
  timer: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  busy: boolean;
  lastTradeTs: number;
  failures: number;
}

export const feedId = (k: FeedKey) => `${k.connector_name}|${k.trading_pair}|${k.channel}${k.interval ? `|${k.interval}` : ''}`;

/**
 * One upstream feed per (connector, pair, channel) shared by every subscriber: the WebSocket stream,
 * and later bots and risk checks. A feed polls its source once per period whatever the number of
 * listeners, delivers to each synchronously (a listener must not block; the WebSocket face drops
 * messages for a slow client instead of waiting), and is stopped after `idleMs` without listeners.
 */
export class MarketDataHub {
  readonly #feeds = new Map<string, Feed>();

  constructor(
    private readonly marketData: MarketData,
    private readonly logger: Logger,
    private readonly periodMs = 1000,
    private readonly idleMs = 10_000,
  ) {}

  /** Starts (or joins) a feed; returns the function that leaves it. */
  subscribe(key: FeedKey, listener: FeedListener): () => void {
    const id = feedId(key);
    let feed = this.#feeds.get(id);
    if (!feed) {
      feed = { key, listeners: new Set(), busy: false, lastTradeTs: 0, failures: 0, timer: setInterval(() => void this.#poll(id), this.periodMs) };
      feed.timer.unref();
      this.#feeds.set(id, feed);
      void this.#poll(id);
    }
    if (feed.idleTimer) {
      clearTimeout(feed.idleTimer);
      feed.idleTimer = undefined;
    }
    feed.listeners.add(listener);
    const f = feed;
    return () => {
      f.listeners.delete(listener);
      if (f.listeners.size === 0 && !f.idleTimer) {
        f.idleTimer = setTimeout(() => this.#stop(id), this.idleMs);
        f.idleTimer.unref();
      }
    };
  }

  /** Live feeds and their listener counts (for status and tests). */
  feeds(): Array<{ id: string; listeners: number }> {
    return [...this.#feeds.entries()].map(([id, f]) => ({ id, listeners: f.listeners.size }));
  }

  stop(): void {
    this.stopAll();
  }

  stopAll(): void {
    for (const id of [...this.#feeds.keys()]) this.#stop(id);
  }

  #stop(id: string): void {
    const f = this.#feeds.get(id);
    if (!f || f.listeners.size > 0) return;
    clearInterval(f.timer);
    if (f.idleTimer) clearTimeout(f.idleTimer);
    this.#feeds.delete(id);
  }

  async #poll(id: string): Promise<void> {
    const f = this.#feeds.get(id);
    if (!f || f.busy) return;
    f.busy = true;
    try {
      const data = await this.#fetch(f);
      f.failures = 0;
      if (data === undefined) return;
      const msg: FeedMessage = { type: f.key.channel, connector_name: f.key.connector_name, trading_pair: f.key.trading_pair, ...(f.key.interval ? { interval: f.key.interval } : {}), data };
      for (const l of f.listeners) {
        try {
          l(msg);
        } catch (err) {
          this.logger.warn('stream listener failed', { feed: id, err });
        }
      }
    } catch (err) {
      f.failures += 1;
      if (f.failures === 1 || f.failures % 30 === 0) this.logger.warn('market data feed failed', { feed: id, failures: f.failures, err: (err as Error).message });
    } finally {
      f.busy = false;
    }
  }

  async #fetch(f: Feed): Promise<unknown> {
    const { connector_name: c, trading_pair: p } = f.key;
    switch (f.key.channel) {
      case 'ticker':
        return this.marketData.ticker(c, p);
      case 'orderbook':
        return this.marketData.orderBook(c, p, 20);
      case 'candles':
        return (await this.marketData.candles(c, p, f.key.interval ?? '1m', { limit: 1 }))[0];
      case 'trades': {
        const trades = (await this.marketData.trades(c, p, 100)).filter((t) => t.timestamp > f.lastTradeTs);
        if (trades.length === 0) return undefined;
        f.lastTradeTs = trades[trades.length - 1]!.timestamp;
        return trades;
      }
    }
  }
}
