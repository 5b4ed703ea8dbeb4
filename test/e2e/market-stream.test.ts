import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { MarketDataHub, type FeedKey, type FeedMessage } from '../../src/core/market-data/hub.js';
import type { MarketData } from '../../src/core/market-data/market-data.js';
import { REPLY_TYPES, refusedUpgrade, StreamClient } from '../helpers/stream-client.js';
import { ADMIN, ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/** Every market the sim connectors list. */
const MARKETS: Array<[connector: string, pair: string]> = [
  ['sim', 'BTC-USDT'],
  ['sim', 'ETH-USDT'],
  ['sim', 'SOL-USDT'],
  ['sim', 'ETH-BTC'],
  ['sim_perpetual', 'BTC-USDT'],
  ['sim_perpetual', 'ETH-USDT'],
  ['sim_perpetual', 'SOL-USDT'],
];

type StreamReq = { action: string; channel: string; connector_name: string; trading_pair: string; interval?: string; [k: string]: unknown };
const sub = (channel: string, connector_name: string, trading_pair: string, extra: Record<string, unknown> = {}): StreamReq => ({ action: 'subscribe', channel, connector_name, trading_pair, ...extra });
const unsub = (channel: string, connector_name: string, trading_pair: string, extra: Record<string, unknown> = {}) => ({ action: 'unsubscribe', channel, connector_name, trading_pair, ...extra });

const sorted = (xs: number[], dir: 'asc' | 'desc') => xs.every((x, i) => i === 0 || (dir === 'asc' ? xs[i - 1]! < x : xs[i - 1]! > x));

describe.each(drivers())('WS /market-data/stream on %s', (driver) => {
  let s: TestServer;
  let url: string;
  const clients: StreamClient[] = [];
  const client = async (auth?: string) => {
    const c = await StreamClient.open(url, auth);
    clients.push(c);
    return c;
  };
  const feed = (id: string) => s.services.hub.feeds().find((f) => f.id === id);

  beforeAll(async () => {
    s = await testServer(driver);
    url = `${s.url.replace(/^http/, 'ws')}/market-data/stream`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => s?.stop());

  describe('the upgrade', () => {
    it('without credentials is refused with 401 and a Basic challenge, before any socket is accepted', async () => {
      const r = await refusedUpgrade(url);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic /);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('with a wrong password (or an unknown user) is refused with 401', async () => {
      expect((await refusedUpgrade(url, { authorization: basicHeader(ADMIN.username, 'not-the-password') })).status).toBe(401);
      expect((await refusedUpgrade(url, { authorization: basicHeader('mallory', ADMIN.password) })).status).toBe(401);
      expect((await refusedUpgrade(url, { authorization: 'Bearer abc' })).status).toBe(401);
    });

    it('on another path is 404, with or without credentials', async () => {
      const base = s.url.replace(/^http/, 'ws');
      const r = await refusedUpgrade(`${base}/market-data/streams`, { authorization: ADMIN_AUTH });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
      expect((await refusedUpgrade(`${base}/`, { authorization: ADMIN_AUTH })).status).toBe(404);
      expect((await refusedUpgrade(`${base}/mcp`)).status).toBe(404);
    });

    it('with credentials is accepted and greeted with a welcome message', async () => {
      const c = await client();
      const welcome = await c.waitFor(() => true);
      expect(welcome).toEqual({ type: 'welcome', channels: ['ticker', 'orderbook', 'trades', 'candles'], max_subscriptions: 50 });
    });
  });

  describe('subscriptions on sim', () => {
    it('ticker: subscribed, then updates with last, bid and ask', async () => {
      const c = await client();
      expect(await c.request(sub('ticker', 'sim', 'BTC-USDT'))).toEqual({ type: 'subscribed', subscription: 'sim|BTC-USDT|ticker' });
      const ups = await c.waitCount((m) => m.type === 'ticker', 2);
      for (const m of ups) {
        expect(m).toMatchObject({ type: 'ticker', connector_name: 'sim', trading_pair: 'BTC-USDT' });
        expect(m).not.toHaveProperty('interval');
        const d = m.data;
        expect(d.trading_pair).toBe('BTC-USDT');
        for (const k of ['last', 'bid', 'ask', 'timestamp']) expect(typeof d[k], k).toBe('number');
        expect(d.bid).toBeLessThan(d.ask);
        expect(d.last).toBeGreaterThan(0);
        // The last price sits near the touch.
        expect(Math.abs(d.last - (d.bid + d.ask) / 2) / d.last).toBeLessThan(0.01);
      }
      expect(ups[1]!.data.timestamp).toBeGreaterThan(ups[0]!.data.timestamp);
    });

    it('orderbook: bids highest first, asks lowest first, never crossed', async () => {
      const c = await client();
      expect(await c.request(sub('orderbook', 'sim', 'ETH-USDT'))).toEqual({ type: 'subscribed', subscription: 'sim|ETH-USDT|orderbook' });
      const ups = await c.waitCount((m) => m.type === 'orderbook', 2);
      for (const m of ups) {
        expect(m).toMatchObject({ type: 'orderbook', connector_name: 'sim', trading_pair: 'ETH-USDT' });
        const { bids, asks, timestamp } = m.data;
        expect(typeof timestamp).toBe('number');
        expect(bids.length).toBeGreaterThan(0);
        expect(asks.length).toBeGreaterThan(0);
        expect(bids.length).toBeLessThanOrEqual(20);
        expect(asks.length).toBeLessThanOrEqual(20);
        for (const l of [...bids, ...asks]) {
          expect(l.price).toBeGreaterThan(0);
          expect(l.amount).toBeGreaterThan(0);
        }
        expect(sorted(bids.map((l: { price: number }) => l.price), 'desc')).toBe(true);
        expect(sorted(asks.map((l: { price: number }) => l.price), 'asc')).toBe(true);
        expect(bids[0].price).toBeLessThan(asks[0].price);
      }
      expect(ups[1]!.data.timestamp).toBeGreaterThanOrEqual(ups[0]!.data.timestamp);
    });

    it('trades: arrays of new trades only, no trade id ever repeated', async () => {
      const c = await client();
      expect(await c.request(sub('trades', 'sim', 'SOL-USDT'))).toEqual({ type: 'subscribed', subscription: 'sim|SOL-USDT|trades' });
      const ups = await c.waitCount((m) => m.type === 'trades', 3, { timeout: 15_000 });
      const ids = new Set<string>();
      let lastTs = -1;
      for (const m of ups) {
        expect(m).toMatchObject({ type: 'trades', connector_name: 'sim', trading_pair: 'SOL-USDT' });
        expect(Array.isArray(m.data)).toBe(true);
        expect(m.data.length).toBeGreaterThan(0);
        expect(m.data.length).toBeLessThanOrEqual(100);
        for (const t of m.data) {
          expect(Object.keys(t).sort()).toEqual(['amount', 'price', 'side', 'timestamp', 'trade_id']);
          expect(['buy', 'sell']).toContain(t.side);
          expect(t.price).toBeGreaterThan(0);
          expect(t.amount).toBeGreaterThan(0);
          expect(ids.has(t.trade_id), `trade ${t.trade_id} repeated`).toBe(false);
          ids.add(t.trade_id);
          // Oldest first within a message, and every message only newer than the previous one.
          expect(t.timestamp).toBeGreaterThanOrEqual(lastTs);
          lastTs = t.timestamp;
        }
      }
      expect(ups[2]!.data[0].timestamp).toBeGreaterThan(ups[1]!.data.at(-1).timestamp);
    });

    it('candles: one row of the subscribed interval per update', async () => {
      const c = await client();
      expect(await c.request(sub('candles', 'sim', 'BTC-USDT', { interval: '5m' }))).toEqual({ type: 'subscribed', subscription: 'sim|BTC-USDT|candles|5m' });
      const ups = await c.waitCount((m) => m.type === 'candles', 2);
      for (const m of ups) {
        expect(m).toMatchObject({ type: 'candles', connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '5m' });
        const row = m.data;
        expect(Array.isArray(row)).toBe(false);
        expect(Object.keys(row).sort()).toEqual(['close', 'high', 'low', 'open', 'timestamp', 'volume']);
        expect(row.timestamp % 300_000).toBe(0);
        expect(row.timestamp).toBeLessThanOrEqual(Date.now());
        expect(row.timestamp).toBeGreaterThan(Date.now() - 600_000);
        expect(row.high).toBeGreaterThanOrEqual(Math.max(row.open, row.close));
        expect(row.low).toBeLessThanOrEqual(Math.min(row.open, row.close));
        expect(row.volume).toBeGreaterThanOrEqual(0);
      }
    });

    it('candles default to 1m when no interval is given', async () => {
      const c = await client();
      expect(await c.request(sub('candles', 'sim_perpetual', 'ETH-USDT'))).toEqual({ type: 'subscribed', subscription: 'sim_perpetual|ETH-USDT|candles|1m' });
      const m = await c.waitFor((x) => x.type === 'candles');
      expect(m.interval).toBe('1m');
      expect(m.data.timestamp % 60_000).toBe(0);
    });

    it('subscribing twice to the same feed is one subscription', async () => {
      const c = await client();
      expect((await c.request(sub('ticker', 'sim', 'ETH-BTC'))).type).toBe('subscribed');
      expect(await c.request(sub('ticker', 'sim', 'ETH-BTC'))).toEqual({ type: 'subscribed', subscription: 'sim|ETH-BTC|ticker' });
      await expect.poll(() => feed('sim|ETH-BTC|ticker')?.listeners).toBe(1);
      const from = c.messages.length;
      await c.waitCount((m) => m.type === 'ticker', 3, { from });
      const stamps = c.updates('ticker', 'sim', 'ETH-BTC', from).map((m) => m.data.timestamp);
      expect(new Set(stamps).size).toBe(stamps.length);
    });

    it('the same subscription sent twice at once is still one subscription (no leaked listener)', async () => {
      const c = await client();
      const from = c.messages.length;
      c.send(sub('ticker', 'sim_perpetual', 'SOL-USDT'));
      c.send(sub('ticker', 'sim_perpetual', 'SOL-USDT'));
      const replies = await c.waitCount((m) => REPLY_TYPES.has(m.type), 2, { from });
      expect(replies).toEqual([
        { type: 'subscribed', subscription: 'sim_perpetual|SOL-USDT|ticker' },
        { type: 'subscribed', subscription: 'sim_perpetual|SOL-USDT|ticker' },
      ]);
      await c.waitCount((m) => m.type === 'ticker', 3, { from });
      const stamps = c.updates('ticker', 'sim_perpetual', 'SOL-USDT', from).map((m) => m.data.timestamp);
      expect.soft(new Set(stamps).size, 'every update delivered once').toBe(stamps.length);
      expect.soft(feed('sim_perpetual|SOL-USDT|ticker')?.listeners, 'one hub listener for the connection').toBe(1);
      await c.close();
      // Closing the connection leaves nothing behind in the hub.
      await expect.poll(() => feed('sim_perpetual|SOL-USDT|ticker')?.listeners ?? 0, { message: 'hub listeners left after the connection closed', timeout: 5000 }).toBe(0);
    });

    it('unsubscribe stops the updates', async () => {
      const c = await client();
      expect((await c.request(sub('ticker', 'sim', 'ETH-USDT'))).type).toBe('subscribed');
      await c.waitFor((m) => m.type === 'ticker');
      expect(await c.request(unsub('ticker', 'sim', 'ETH-USDT'))).toEqual({ type: 'unsubscribed', subscription: 'sim|ETH-USDT|ticker' });
      const after = c.messages.length;
      // A feed on the same period as a control: three of its updates are three periods in which an
      // ETH-USDT update would have come, had the unsubscribe not stopped it.
      expect((await c.request(sub('ticker', 'sim', 'SOL-USDT'))).type).toBe('subscribed');
      await c.waitCount((m) => m.type === 'ticker' && m.trading_pair === 'SOL-USDT', 3, { from: after });
      expect(c.updates('ticker', 'sim', 'ETH-USDT', after)).toEqual([]);
      // Unsubscribing again: nothing to stop.
      const again = await c.request(unsub('ticker', 'sim', 'ETH-USDT'));
      expect(again).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
      // Still usable.
      expect((await c.request(sub('ticker', 'sim', 'ETH-USDT'))).type).toBe('subscribed');
    });
  });

  describe('bad requests answer an error and keep the connection', () => {
    it.each([
      ['invalid JSON', 'VALIDATION_FAILED', '{"action":"subscribe",'],
      ['a JSON array', 'VALIDATION_FAILED', '[1,2]'],
      ['an unknown field', 'VALIDATION_FAILED', JSON.stringify({ ...sub('ticker', 'sim', 'BTC-USDT'), depth: 5 })],
      ['an unknown action', 'VALIDATION_FAILED', JSON.stringify({ ...sub('ticker', 'sim', 'BTC-USDT'), action: 'watch' })],
      ['an unknown channel', 'VALIDATION_FAILED', JSON.stringify(sub('funding', 'sim', 'BTC-USDT'))],
      ['a lowercase pair', 'VALIDATION_FAILED', JSON.stringify(sub('ticker', 'sim', 'btc-usdt'))],
      ['a bad interval', 'VALIDATION_FAILED', JSON.stringify(sub('candles', 'sim', 'BTC-USDT', { interval: '7m' }))],
      ['a missing field', 'VALIDATION_FAILED', JSON.stringify({ action: 'subscribe', channel: 'ticker', connector_name: 'sim' })],
      ['an unknown pair', 'NOT_FOUND', JSON.stringify(sub('ticker', 'sim', 'DOGE-USDT'))],
      ['a pair only spot lists, on the perpetual connector', 'NOT_FOUND', JSON.stringify(sub('orderbook', 'sim_perpetual', 'ETH-BTC'))],
      ['an unknown connector', 'NOT_FOUND', JSON.stringify(sub('ticker', 'nosuchexchange', 'BTC-USDT'))],
    ])('%s → error %s', async (_label, code, text) => {
      const c = await client();
      const reply = await c.request(text);
      expect(reply.type).toBe('error');
      expect(reply.code).toBe(code);
      expect(typeof reply.message).toBe('string');
      expect(reply.message.length).toBeGreaterThan(0);
      expect(typeof reply.retryable).toBe('boolean');
      // Schema failures name the offending fields.
      if (code === 'VALIDATION_FAILED' && text.startsWith('{"action"') && !text.endsWith(',')) expect(reply.details?.issues?.length).toBeGreaterThan(0);
      if (code === 'NOT_FOUND') expect(reply.hint).toBeTruthy();
      expect(JSON.stringify(reply)).not.toMatch(/\n\s+at |node_modules/);
      // The connection is still usable.
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(await c.request(sub('ticker', 'sim', 'BTC-USDT'))).toEqual({ type: 'subscribed', subscription: 'sim|BTC-USDT|ticker' });
      await c.waitFor((m) => m.type === 'ticker');
    });
  });

  describe('limits', () => {
    /** Distinct feeds: ticker, orderbook and trades on every market, then candles of several intervals. */
    const distinct = (intervals: string[], channels = ['ticker', 'orderbook', 'trades']) => [
      ...channels.flatMap((ch) => MARKETS.map(([c, p]) => sub(ch, c, p))),
      ...intervals.flatMap((i) => MARKETS.map(([c, p]) => sub('candles', c, p, { interval: i }))),
    ];

    it('the 51st subscription of a connection is refused with RATE_LIMITED', async () => {
      const reqs = distinct(['1m', '3m', '5m', '15m', '30m']).slice(0, 51);
      expect(reqs).toHaveLength(51);
      const c = await client();
      for (const r of reqs.slice(0, 50)) expect((await c.request(r)).type).toBe('subscribed');
      const refused = await c.request(reqs[50]);
      expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
      expect(refused.hint).toBeTruthy();
      // Re-subscribing to one it holds is not a new subscription.
      expect((await c.request(reqs[0])).type).toBe('subscribed');
      // Making room lets the 51st in.
      expect((await c.request({ ...reqs[0], action: 'unsubscribe' })).type).toBe('unsubscribed');
      expect((await c.request(reqs[50])).type).toBe('subscribed');
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('a burst of subscriptions sent at once cannot exceed the limit either', async () => {
      // Feeds no other test uses, so the hub's listener counts are this client's alone.
      const reqs = distinct(['1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w'], []).slice(0, 60);
      expect(reqs).toHaveLength(60);
      const c = await client();
      const from = c.messages.length;
      for (const r of reqs) c.send(r);
      const replies = await c.waitCount((m) => REPLY_TYPES.has(m.type), 60, { from, timeout: 20_000 });
      const subscribed = replies.filter((m) => m.type === 'subscribed').length;
      const limited = replies.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED').length;
      expect(subscribed + limited).toBe(60);
      expect(subscribed).toBe(50);
      const ids = new Set(reqs.map((r) => `${r.connector_name}|${r.trading_pair}|candles|${r.interval}`));
      const held = s.services.hub.feeds().filter((f) => ids.has(f.id)).reduce((n, f) => n + f.listeners, 0);
      expect(held).toBe(50);
    });
  });

  describe('shared feeds', () => {
    it('two clients on the same feed share one upstream feed and get the same messages', async () => {
      const id = 'sim|BTC-USDT|ticker';
      const a = await client();
      const b = await client();
      expect((await a.request(sub('ticker', 'sim', 'BTC-USDT'))).subscription).toBe(id);
      expect((await b.request(sub('ticker', 'sim', 'BTC-USDT'))).subscription).toBe(id);
      await expect.poll(() => s.services.hub.feeds().filter((f) => f.id === id)).toEqual([{ id, listeners: 2 }]);
      const fromA = a.messages.length;
      const fromB = b.messages.length;
      const got = await b.waitCount((m) => m.type === 'ticker', 3, { from: fromB });
      await a.waitCount((m) => m.type === 'ticker', 3, { from: fromA });
      const aByTs = new Map(a.updates('ticker', 'sim', 'BTC-USDT').map((m) => [m.data.timestamp, m]));
      for (const m of got) expect(aByTs.get(m.data.timestamp), `a got the update at ${m.data.timestamp} too`).toEqual(m);
      await a.close();
      await b.close();
      // Both gone: the feed is idle but kept for the idle period (10 s by default) in case someone comes back.
      await expect.poll(() => feed(id)).toEqual({ id, listeners: 0 });
    });

    it('the hub drops a feed after its idle period, and keeps it when rejoined in time', async () => {
      const hub = new MarketDataHub(s.services.marketData, createLogger('silent'), 100, 300);
      try {
        const key: FeedKey = { connector_name: 'sim', trading_pair: 'BTC-USDT', channel: 'ticker' };
        const id = 'sim|BTC-USDT|ticker';
        const a: FeedMessage[] = [];
        const b: FeedMessage[] = [];
        const offA = hub.subscribe(key, (m) => a.push(m));
        const offB = hub.subscribe(key, (m) => b.push(m));
        expect(hub.feeds()).toEqual([{ id, listeners: 2 }]);
        await expect.poll(() => b.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
        // One poll, one message object, handed to both listeners.
        expect(a.length).toBe(b.length);
        expect(a.every((m, i) => m === b[i])).toBe(true);
        offA();
        expect(hub.feeds()).toEqual([{ id, listeners: 1 }]);
        offB();
        expect(hub.feeds()).toEqual([{ id, listeners: 0 }]);
        await expect.poll(() => hub.feeds(), { timeout: 5000 }).toEqual([]);

        // Leaving and coming back within the idle period keeps the feed.
        const off1 = hub.subscribe(key, () => undefined);
        off1();
        const seen: FeedMessage[] = [];
        const off2 = hub.subscribe(key, (m) => seen.push(m));
        // Five 100 ms periods outlast the 300 ms idle period: the feed was kept, not dropped.
        await expect.poll(() => seen.length, { timeout: 5000 }).toBeGreaterThanOrEqual(5);
        expect(hub.feeds()).toEqual([{ id, listeners: 1 }]);
        off2();
        await expect.poll(() => hub.feeds(), { timeout: 5000 }).toEqual([]);
      } finally {
        hub.stopAll();
      }
    });

    it('one upstream fetch per period whatever the number of listeners', async () => {
      let fetches = 0;
      const counting = {
        ticker: (c: string, p: string) => {
          fetches++;
          return s.services.marketData.ticker(c, p);
        },
      } as unknown as MarketData;
      const hub = new MarketDataHub(counting, createLogger('silent'), 100, 300);
      try {
        const key: FeedKey = { connector_name: 'sim', trading_pair: 'SOL-USDT', channel: 'ticker' };
        const inboxes = Array.from({ length: 5 }, () => [] as FeedMessage[]);
        const offs = inboxes.map((box) => hub.subscribe(key, (m) => box.push(m)));
        await expect.poll(() => inboxes[4]!.length, { timeout: 5000 }).toBeGreaterThanOrEqual(4);
        offs.forEach((off) => off());
        const delivered = inboxes[0]!.length;
        for (const box of inboxes) expect(box.length).toBe(delivered);
        // Each delivered message cost one fetch (one more may have been in flight when we stopped).
        expect(fetches - delivered).toBeGreaterThanOrEqual(0);
        expect(fetches - delivered).toBeLessThanOrEqual(1);
      } finally {
        hub.stopAll();
      }
    });

    it('a client that stops reading never stalls the others', async () => {
      const slow = await client();
      for (const [c, p] of MARKETS) expect((await slow.request(sub('orderbook', c, p))).type).toBe('subscribed');
      expect((await slow.request(sub('trades', 'sim', 'BTC-USDT'))).type).toBe('subscribed');
      // Stop reading: the server's writes to this socket pile up unread.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

      const normal = await client();
      expect((await normal.request(sub('orderbook', 'sim', 'BTC-USDT'))).type).toBe('subscribed');
      const from = normal.messages.length;
      // Fails at the wait's deadline if the paused client stalls the shared feed.
      await normal.waitCount((m) => m.type === 'orderbook' && m.connector_name === 'sim' && m.trading_pair === 'BTC-USDT', 3, { from });
      // The slow client is still subscribed to the same shared feed.
      expect(feed('sim|BTC-USDT|orderbook')?.listeners).toBe(2);
      // And the server itself still answers.
      expect((await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).status).toBe(200);
    });
  });
});
