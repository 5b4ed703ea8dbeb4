import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { CcxtConnector } from '../../src/core/exchange/ccxt/ccxt-connector.js';
import { Connectors } from '../../src/core/exchange/connectors.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import type { ConnectorInfo } from '../../src/core/exchange/types.js';
import { Decimal } from '../../src/core/decimal.js';
import { binanceClient, ccxtOptionsFor, FIXTURE_CCXT_OPTIONS, startBinanceFixture, type BinanceFixture } from '../fixtures/binance-fixture.js';

type Ccxt = (typeof import('ccxt'))['default'];
type Binance = InstanceType<Ccxt['binance']>;

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const KEY = 'fixtureKeyA0000000000001';
const SECRET = 'fixtureSecretA000000000000000001';
const CREDS = { api_key: KEY, secret: SECRET };
const PAIRS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'];

let ccxt: Ccxt;

/** The ccxt error class a promise rejects with (fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function appError(p: Promise<unknown>): Promise<AppError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const dec = (v: string | number | undefined) => new Decimal(String(v ?? 0));

beforeAll(async () => {
  ccxt = (await import('ccxt')).default;
});

describe("ccxt's own binance class against the fixture", () => {
  let fx: BinanceFixture;
  let ex: Binance;
  let pub: Binance;

  beforeAll(async () => {
    fx = await startBinanceFixture({ startTime: T0, accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '100000', BTC: '1', ETH: '10' } }] });
    ex = await binanceClient(fx, { apiKey: KEY, secret: SECRET });
    pub = await binanceClient(fx);
  });

  afterAll(async () => {
    expect(fx.errors).toEqual([]);
    await fx.close();
  });

  it('loadMarkets: three spot markets whose limits and precision are the sim listings, from exchangeInfo alone', async () => {
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    for (const m of simMarkets('spot').filter((x) => PAIRS.includes(x.trading_pair))) {
      const cm = markets[m.trading_pair.replace('-', '/')]!;
      expect(cm.spot).toBe(true);
      expect(cm.active).toBe(true);
      expect(cm.id).toBe(m.trading_pair.replace('-', ''));
      expect(dec(cm.precision.price).eq(m.rules.min_price_increment!)).toBe(true);
      expect(dec(cm.precision.amount).eq(m.rules.min_base_amount_increment!)).toBe(true);
      expect(dec(cm.limits.amount?.min).eq(m.rules.min_order_size!)).toBe(true);
      expect(dec(cm.limits.amount?.max).eq(m.rules.max_order_size!)).toBe(true);
      expect(dec(cm.limits.cost?.min).eq(m.rules.min_notional_size!)).toBe(true);
    }
    // With keys, loadMarkets would also call sapi endpoints unless the fixture's options are set.
    expect(fx.unhandled).toEqual([]);
    expect(fx.requestsTo('GET', '/api/v3/exchangeInfo').length).toBeGreaterThanOrEqual(1);
  });

  it('without FIXTURE_CCXT_OPTIONS, a keyed loadMarkets reaches for /sapi (documents why the options are needed)', async () => {
    const raw = new ccxt.binance({ apiKey: KEY, secret: SECRET, timeout: 2000 });
    raw.urls = { ...raw.urls, api: fx.apiUrls } as typeof raw.urls;
    const before = fx.unhandled.length;
    const err = await rejection(raw.loadMarkets());
    expect(err).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(fx.unhandled.slice(before)).toContain('GET /sapi/v1/capital/config/getall');
    fx.unhandled.length = before;
    // The options named in the fixture are exactly the ones that avoid it.
    expect(FIXTURE_CCXT_OPTIONS).toEqual({ fetchCurrencies: false, fetchMargins: false, fetchMarkets: { types: ['spot'] } });
  });

  it('fetchTicker: bid/ask/last are the sim book and price at the fixture clock', async () => {
    const t = await pub.fetchTicker('BTC/USDT');
    const m = fx.sim.market('spot', 'BTC-USDT');
    const book = fx.sim.orderBook(m, 1);
    expect(t.symbol).toBe('BTC/USDT');
    expect(t.timestamp).toBe(T0);
    expect(t.bid).toBe(book.bids[0]!.price);
    expect(t.ask).toBe(book.asks[0]!.price);
    expect(t.last).toBe(fx.sim.ticker(m).last);
    expect(t.high!).toBeGreaterThanOrEqual(t.low!);
    expect(t.baseVolume!).toBeGreaterThan(0);
  });

  it('fetchOrderBook: the sim book, levels and sizes exactly', async () => {
    const ob = await pub.fetchOrderBook('ETH/USDT', 20);
    const book = fx.sim.orderBook(fx.sim.market('spot', 'ETH-USDT'), 20);
    expect(ob.bids.map(([p, a]) => ({ price: p, amount: a }))).toEqual(book.bids);
    expect(ob.asks.map(([p, a]) => ({ price: p, amount: a }))).toEqual(book.asks);
    expect(ob.nonce).toBe(Math.floor(T0 / 1000));
  });

  it('fetchOHLCV and fetchTrades (aggTrades and trades) parse', async () => {
    const candles = await pub.fetchOHLCV('SOL/USDT', '1h', undefined, 5);
    expect(candles.length).toBe(5);
    expect(candles.at(-1)![0]).toBe(Math.floor(T0 / 3_600_000) * 3_600_000);
    for (const [, o, h, l, c] of candles) expect(h!).toBeGreaterThanOrEqual(Math.max(o!, c!, l!));
    const agg = await pub.fetchTrades('BTC/USDT', undefined, 10);
    expect(agg.length).toBe(10);
    const plain = await pub.fetchTrades('BTC/USDT', undefined, 10, { fetchTradesMethod: 'publicGetTrades' });
    expect(plain.map((t) => [t.id, t.side, t.price, t.amount])).toEqual(agg.map((t) => [t.id, t.side, t.price, t.amount]));
    const ids = plain.map((t) => Number(t.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(fx.requestsTo('GET', '/api/v3/trades').length).toBe(1);
  });

  it('fetchBalance: free, used and total per asset', async () => {
    const b = await ex.fetchBalance();
    expect(b.total).toMatchObject({ USDT: 100000, BTC: 1, ETH: 10, SOL: 0 });
    expect(b.free).toMatchObject({ USDT: 100000 });
    // Signed: the key went in the header, the signature is never logged.
    const r = fx.requestsTo('GET', '/api/v3/account').at(-1)!;
    expect(r.apiKey).toBe(KEY);
    expect(r.query.signature).toBeUndefined();
    expect(r.query.timestamp).toMatch(/^\d+$/);
  });

  it('a market buy with a client order id fills against the book, with fees, and is sent exactly once', async () => {
    const before = fx.balances(KEY);
    const book = fx.sim.orderBook(fx.sim.market('spot', 'BTC-USDT'), 1);
    const o = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-buy-1' });
    expect(o.clientOrderId).toBe('mkt-buy-1');
    expect(o.status).toBe('closed');
    expect(o.filled).toBe(0.01);
    expect(o.average).toBe(book.asks[0]!.price);
    expect(o.trades.length).toBe(1);
    expect(o.fee).toEqual({ currency: 'BTC', cost: 0.00001 });
    const after = fx.balances(KEY);
    expect(dec(before.USDT!.free).minus(after.USDT!.free).eq(dec(book.asks[0]!.price).times('0.01'))).toBe(true);
    expect(dec(after.BTC!.free).minus(before.BTC!.free).toFixed()).toBe('0.00999');
    expect(fx.placements('mkt-buy-1')).toBe(1);
    const sent = fx.requestsTo('POST', '/api/v3/order').at(-1)!.query;
    expect(sent).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01', newClientOrderId: 'mkt-buy-1', newOrderRespType: 'FULL' });
  });

  it('a limit buy below the book rests with funds locked; fetchOrder by id and by client id; fetchOpenOrders; cancelOrder unlocks', async () => {
    const bid = fx.sim.orderBook(fx.sim.market('spot', 'BTC-USDT'), 1).bids[0]!.price;
    const price = Math.floor(bid * 0.9);
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.02, price, { clientOrderId: 'lim-rest-1' });
    expect(o.status).toBe('open');
    expect(o.filled).toBe(0);
    expect(o.price).toBe(price);
    expect(fx.requestsTo('POST', '/api/v3/order').at(-1)!.query).toMatchObject({ type: 'LIMIT', timeInForce: 'GTC', price: String(price), quantity: '0.02' });
    expect(fx.balances(KEY).USDT!.locked).toBe(dec(price).times('0.02').toFixed());

    const byId = await ex.fetchOrder(o.id!, 'BTC/USDT');
    expect(byId).toMatchObject({ id: o.id, clientOrderId: 'lim-rest-1', status: 'open', amount: 0.02, side: 'buy', type: 'limit' });
    const byClient = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'lim-rest-1' });
    expect(byClient.id).toBe(o.id);
    expect(fx.requestsTo('GET', '/api/v3/order').at(-1)!.query).toMatchObject({ origClientOrderId: 'lim-rest-1' });

    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((x) => x.id)).toContain(o.id);

    const canceled = await ex.cancelOrder(o.id!, 'BTC/USDT');
    expect(canceled.status).toBe('canceled');
    expect(fx.balances(KEY).USDT!.locked).toBe('0');
    expect((await ex.fetchOpenOrders('BTC/USDT')).map((x) => x.id)).not.toContain(o.id);
    expect((await ex.fetchOrders('BTC/USDT')).find((x) => x.id === o.id)?.status).toBe('canceled');
    // Canceling again: Binance says "Unknown order sent." (-2011) → OrderNotFound.
    expect(await rejection(ex.cancelOrder(o.id!, 'BTC/USDT'))).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('a marketable limit fills at once as taker at the book price (never worse than the limit)', async () => {
    const ask = fx.sim.orderBook(fx.sim.market('spot', 'ETH-USDT'), 1).asks[0]!.price;
    const limit = Number((ask * 1.002).toFixed(2));
    const o = await ex.createOrder('ETH/USDT', 'limit', 'buy', 0.5, limit, { clientOrderId: 'lim-take-1' });
    expect(o.status).toBe('closed');
    expect(o.filled).toBe(0.5);
    expect(o.average!).toBeLessThanOrEqual(limit);
    expect(o.average!).toBeGreaterThanOrEqual(ask);
    const trades = await ex.fetchMyTrades('ETH/USDT', undefined, undefined, { orderId: o.id });
    expect(trades.length).toBeGreaterThan(0);
    expect(trades.every((t) => t.takerOrMaker === 'taker' && t.order === o.id)).toBe(true);
    expect(fx.balances(KEY).USDT!.locked).toBe('0');
  });

  it('a resting limit fills as maker at its own price when the sim book crosses it on tick()', async () => {
    const bid = fx.sim.orderBook(fx.sim.market('spot', 'SOL-USDT'), 1).bids[0]!.price;
    const o = await ex.createOrder('SOL/USDT', 'limit', 'buy', 2, bid, { clientOrderId: 'lim-maker-1' });
    expect(o.status).toBe('open');
    const fills = [];
    for (let i = 0; i < 6 * 3600 && fills.length === 0; i++) fills.push(...fx.tick(1000));
    expect(fills.length).toBeGreaterThan(0);
    expect(fills[0]).toMatchObject({ clientOrderId: 'lim-maker-1', price: String(bid), maker: true });
    // Partial fills are possible (the touch may hold less than 2 SOL): keep ticking until it is done.
    const status = () => fx.orders(KEY).find((x) => String(x.orderId) === o.id)!.status;
    for (let i = 0; i < 6 * 3600 && status() !== 'FILLED'; i++) fx.tick(1000);
    const got = await ex.fetchOrder(o.id!, 'SOL/USDT');
    expect(got.status).toBe('closed');
    expect(got.filled).toBe(2);
    expect(dec(got.cost).eq(dec(bid).times(2))).toBe(true);
    const trades = await ex.fetchOrderTrades(o.id!, 'SOL/USDT');
    expect(trades.every((t) => t.takerOrMaker === 'maker' && t.price === bid)).toBe(true);
    expect(trades.reduce((s, t) => s.plus(dec(t.fee?.cost)), new Decimal(0)).toFixed()).toBe('0.002');
  });

  it('post-only (LIMIT_MAKER) that would cross → OrderImmediatelyFillable (an InvalidOrder); one that does not, rests', async () => {
    const book = fx.sim.orderBook(fx.sim.market('spot', 'BTC-USDT'), 1);
    const err = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, book.asks[0]!.price, { postOnly: true, clientOrderId: 'pm-cross' }));
    expect(err).toBeInstanceOf(ccxt.OrderImmediatelyFillable);
    expect(err).toBeInstanceOf(ccxt.InvalidOrder);
    expect(err.message).toContain('Order would immediately match and take.');
    expect(fx.requestsTo('POST', '/api/v3/order').at(-1)).toMatchObject({ status: 400, code: -2010 });
    expect(fx.requestsTo('POST', '/api/v3/order').at(-1)!.query.type).toBe('LIMIT_MAKER');
    const ok = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.001, book.asks[0]!.price + 50, { postOnly: true, clientOrderId: 'pm-rest' });
    expect(ok).toMatchObject({ status: 'open', postOnly: true });
    await ex.cancelOrder(ok.id!, 'BTC/USDT');
  });

  it('insufficient balance → InsufficientFunds, no order, balances untouched', async () => {
    const before = fx.balances(KEY);
    const n = fx.orders(KEY).length;
    const err = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 5, 60000, { clientOrderId: 'too-big' }));
    expect(err).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(fx.requestsTo('POST', '/api/v3/order').at(-1)).toMatchObject({ status: 400, code: -2010 });
    expect(await rejection(ex.createOrder('BTC/USDT', 'market', 'sell', 50))).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(fx.orders(KEY).length).toBe(n);
    expect(fx.balances(KEY)).toEqual(before);
  });

  it('a duplicate client order id of an open order → InvalidOrder "Duplicate order sent."; allowed again once it is closed', async () => {
    const first = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' });
    const err = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' }));
    expect(err).toBeInstanceOf(ccxt.InvalidOrder);
    expect(err.message).toContain('Duplicate order sent.');
    expect(fx.placements('dup-1')).toBe(2);
    await ex.cancelOrder(first.id!, 'BTC/USDT');
    const again = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' });
    expect(again.id).not.toBe(first.id);
    // By client id, the latest order carrying it.
    expect((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'dup-1' })).id).toBe(again.id);
    await ex.cancelOrder(again.id!, 'BTC/USDT');
  });

  it('filter failures: LOT_SIZE and PRICE_FILTER → InvalidOrder, NOTIONAL → BadRequest (all -1013)', async () => {
    const lot = await rejection(ex.createOrder('BTC/USDT', 'limit', 'sell', 9001, 70000));
    expect(lot).toBeInstanceOf(ccxt.InvalidOrder);
    expect(lot.message).toContain('Filter failure: LOT_SIZE');
    const px = await rejection(ex.createOrder('BTC/USDT', 'limit', 'sell', 0.001, 2_000_000));
    expect(px).toBeInstanceOf(ccxt.InvalidOrder);
    expect(px.message).toContain('Filter failure: PRICE_FILTER');
    const notional = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.00001, 60000));
    expect(notional).toBeInstanceOf(ccxt.BadRequest);
    expect(notional.message).toContain('Filter failure: NOTIONAL');
    expect(fx.requestsTo('POST', '/api/v3/order').slice(-3).map((r) => r.code)).toEqual([-1013, -1013, -1013]);
  });

  it('an unknown order → OrderNotFound (-2013 on GET, -2011 on DELETE)', async () => {
    expect(await rejection(ex.fetchOrder('424242', 'BTC/USDT'))).toBeInstanceOf(ccxt.OrderNotFound);
    expect(await rejection(ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'never-sent' }))).toBeInstanceOf(ccxt.OrderNotFound);
    expect(await rejection(ex.cancelOrder('424242', 'BTC/USDT'))).toBeInstanceOf(ccxt.OrderNotFound);
    // An order of this account on another symbol is not found under this one.
    const eth = fx.orders(KEY).find((o) => o.symbol === 'ETHUSDT')!;
    expect(await rejection(ex.fetchOrder(String(eth.orderId), 'BTC/USDT'))).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('parameters Binance spot does not read → -1104 BadRequest (e.g. reduceOnly on a spot order)', async () => {
    const err = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000, { reduceOnly: true }));
    expect(err).toBeInstanceOf(ccxt.BadRequest);
    expect(err.message).toContain("Not all sent parameters were read; read '11' parameter(s) but was sent '12'.");
  });

  it('a bad API key → AuthenticationError (401 -2015); a bad secret → AuthenticationError (-1022); a stale timestamp → InvalidNonce (-1021)', async () => {
    const badKey = await binanceClient(fx, { apiKey: 'unknownKey000000', secret: SECRET });
    expect(await rejection(badKey.fetchBalance())).toBeInstanceOf(ccxt.AuthenticationError);
    expect(fx.requestsTo('GET', '/api/v3/account').at(-1)).toMatchObject({ status: 401, code: -2015 });
    const badSecret = await binanceClient(fx, { apiKey: KEY, secret: 'not-the-secret' });
    expect(await rejection(badSecret.fetchBalance())).toBeInstanceOf(ccxt.AuthenticationError);
    expect(fx.requestsTo('GET', '/api/v3/account').at(-1)).toMatchObject({ status: 400, code: -1022 });
    const skewed = await binanceClient(fx, { apiKey: KEY, secret: SECRET, options: { timeDifference: 60_000 } });
    expect(await rejection(skewed.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
  });

  it('dropped connections → NetworkError (not a timeout); the fixture recovers', async () => {
    fx.dropConnections(true);
    try {
      const err = await rejection(pub.fetchTicker('BTC/USDT'));
      expect(err).toBeInstanceOf(ccxt.NetworkError);
      expect(err).not.toBeInstanceOf(ccxt.RequestTimeout);
      expect(fx.requests.at(-1)!.status).toBe('dropped');
    } finally {
      fx.dropConnections(false);
    }
    expect((await pub.fetchTicker('BTC/USDT')).symbol).toBe('BTC/USDT');
  });

  it('a hang → RequestTimeout within the client timeout', async () => {
    const quick = await binanceClient(fx, { timeout: 300 });
    fx.hang(true);
    try {
      expect(await rejection(quick.fetchTime())).toBeInstanceOf(ccxt.RequestTimeout);
    } finally {
      fx.hang(false);
    }
    expect(fx.requests.at(-1)!.status).toBe('hung');
    expect(await quick.fetchTime()).toBeGreaterThan(0);
    // Not timed here (bench/ measures): a client that ignored its timeout would run into this test's.
  }, 15_000);

  it('an order placed whose answer is lost (drop_after): NetworkError, yet the order exists and is found by client id', async () => {
    fx.fault({ mode: 'drop_after', match: (r) => r.method === 'POST' && r.path === '/api/v3/order', times: 1 });
    const err = await rejection(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000, { clientOrderId: 'lost-answer-1' }));
    expect(err).toBeInstanceOf(ccxt.NetworkError);
    const found = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'lost-answer-1' });
    expect(found).toMatchObject({ clientOrderId: 'lost-answer-1', status: 'open' });
    expect(fx.placements('lost-answer-1')).toBe(1);
    await ex.cancelOrder(found.id!, 'BTC/USDT');
  });

  it('an injected error answer (429 -1003) → RateLimitExceeded/DDoSProtection', async () => {
    fx.fault({ mode: { status: 429, body: { code: -1003, msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute.' } }, times: 1 });
    expect(await rejection(pub.fetchTime())).toBeInstanceOf(ccxt.DDoSProtection);
  });
});

describe('CcxtConnector (our binance connector) against the fixture', () => {
  let fx: BinanceFixture;
  let info: ConnectorInfo;
  let c: CcxtConnector;

  beforeAll(async () => {
    fx = await startBinanceFixture({ startTime: T0, accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '25000', BTC: '0.75', SOL: '12.5' } }] });
    info = await new Connectors().info('binance');
    expect(info).toMatchObject({ name: 'binance', exchange: 'binance', market_type: 'spot', kind: 'exchange' });
    c = new CcxtConnector(info, ccxtOptionsFor(fx));
  });

  afterAll(async () => {
    expect(fx.errors).toEqual([]);
    expect(fx.unhandled).toEqual([]);
    await fx.close();
  });

  it('loadMarkets: the trading rules are the exchangeInfo filters, i.e. the sim spot listings', async () => {
    const markets = await c.loadMarkets();
    const expected = simMarkets('spot').filter((m) => PAIRS.includes(m.trading_pair));
    expect(markets).toEqual(expected);
  });

  it('the legacy MIN_NOTIONAL filter gives the same rules', async () => {
    const legacy = await startBinanceFixture({ startTime: T0, notionalFilter: 'MIN_NOTIONAL' });
    try {
      const info2 = await new CcxtConnector(info, ccxtOptionsFor(legacy)).loadMarkets();
      expect(info2.map((m) => m.rules.min_notional_size)).toEqual(['5', '5', '5']);
      const body = (await (await fetch(`${legacy.origin}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json()) as { symbols: Array<{ filters: Array<{ filterType: string }> }> };
      expect(body.symbols[0]!.filters.map((f) => f.filterType)).toEqual(['PRICE_FILTER', 'LOT_SIZE', 'MIN_NOTIONAL']);
    } finally {
      await legacy.close();
    }
  });

  it('fetchTicker and fetchOrderBook are the sim market at the fixture clock', async () => {
    const m = fx.sim.market('spot', 'BTC-USDT');
    const t = await c.fetchTicker('BTC-USDT');
    const simT = fx.sim.ticker(m);
    expect(t).toMatchObject({ trading_pair: 'BTC-USDT', timestamp: T0, last: simT.last, bid: simT.bid, ask: simT.ask, high_24h: simT.high_24h, low_24h: simT.low_24h, volume_24h: simT.volume_24h });
    const ob = await c.fetchOrderBook('BTC-USDT', 10);
    const simOb = fx.sim.orderBook(m, 10);
    expect(ob.bids).toEqual(simOb.bids);
    expect(ob.asks).toEqual(simOb.asks);
  });

  it('fetchCandles and fetchTrades', async () => {
    const candles = await c.fetchCandles('ETH-USDT', '1m', { limit: 30 });
    expect(candles.length).toBe(30);
    expect(candles.at(-1)!.timestamp).toBe(Math.floor(T0 / 60_000) * 60_000);
    const trades = await c.fetchTrades('ETH-USDT', 25);
    expect(trades.length).toBe(25);
    expect(trades.every((t) => t.timestamp <= T0 && (t.side === 'buy' || t.side === 'sell'))).toBe(true);
  });

  it('fetchBalances with {api_key, secret}', async () => {
    const balances = await c.fetchBalances(CREDS);
    expect(balances).toEqual([
      { asset: 'BTC', total: '0.75', available: '0.75', locked: '0' },
      { asset: 'SOL', total: '12.5', available: '12.5', locked: '0' },
      { asset: 'USDT', total: '25000', available: '25000', locked: '0' },
    ]);
  });

  it('the live path (LiveTrading): createOrder with our id as client id, fetchOrder by either id, cancelOrder', async () => {
    const clientId = 'ord_0123456789abcdef0123';
    const bid = fx.sim.orderBook(fx.sim.market('spot', 'BTC-USDT'), 1).bids[0]!.price;
    const price = (Math.floor(bid * 0.95 * 100) / 100).toFixed(2);
    const placed = await c.createOrder(CREDS, { trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.01', price, client_order_id: clientId });
    expect(placed).toMatchObject({ client_order_id: clientId, status: 'open', amount: '0.01', filled: '0' });
    expect(fx.placements(clientId)).toBe(1);
    const locked = (await c.fetchBalances(CREDS)).find((b) => b.asset === 'USDT')!;
    expect(locked.locked).toBe(new Decimal(price).times('0.01').toFixed());

    const byClient = await c.fetchOrder(CREDS, { client_order_id: clientId }, 'BTC-USDT');
    expect(byClient.exchange_order_id).toBe(placed.exchange_order_id);
    const byId = await c.fetchOrder(CREDS, { exchange_order_id: placed.exchange_order_id }, 'BTC-USDT');
    expect(byId).toMatchObject({ client_order_id: clientId, status: 'open' });

    const canceled = await c.cancelOrder(CREDS, placed.exchange_order_id, 'BTC-USDT');
    expect(canceled).toMatchObject({ exchange_order_id: placed.exchange_order_id, client_order_id: clientId, status: 'canceled', filled: '0' });
    expect(fx.balances(KEY).USDT!.locked).toBe('0');
  });

  it('the live path: a market order comes back filled with its trades and fee; limit_maker maps to LIMIT_MAKER', async () => {
    const done = await c.createOrder(CREDS, { trading_pair: 'SOL-USDT', side: 'sell', order_type: 'market', amount: '2.5', price: null, client_order_id: 'ord_market_sell_000001' });
    expect(done).toMatchObject({ status: 'filled', amount: '2.5', filled: '2.5', fee_asset: 'USDT' });
    expect(done.trades.length).toBeGreaterThan(0);
    expect(done.trades.reduce((s, t) => s.plus(t.amount), new Decimal(0)).toFixed()).toBe('2.5');
    expect(fx.balances(KEY).SOL!.free).toBe('10');

    const ask = fx.sim.orderBook(fx.sim.market('spot', 'SOL-USDT'), 1).asks[0]!.price;
    const err = await appError(c.createOrder(CREDS, { trading_pair: 'SOL-USDT', side: 'buy', order_type: 'limit_maker', amount: '1', price: String(ask), client_order_id: 'ord_maker_cross_00001' }));
    expect(err.code).toBe('UPSTREAM_REJECTED');
    expect(fx.requestsTo('POST', '/api/v3/order').at(-1)!.query.type).toBe('LIMIT_MAKER');
  });

  it('an order never placed: fetchOrder by client id → NOT_FOUND (what LiveOrders.resolve relies on)', async () => {
    const err = await appError(c.fetchOrder(CREDS, { client_order_id: 'ord_never_placed_0001' }, 'BTC-USDT'));
    expect(err.code).toBe('NOT_FOUND');
  });

  it('insufficient funds → UPSTREAM_REJECTED', async () => {
    const err = await appError(c.createOrder(CREDS, { trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '1', price: '60000.00', client_order_id: 'ord_too_big_000000001' }));
    expect(err.code).toBe('UPSTREAM_REJECTED');
    expect(err.message).toMatch(/insufficient funds/);
  });

  it('a bad API key → PRECONDITION_FAILED', async () => {
    const err = await appError(c.fetchBalances({ api_key: 'someoneElsesKey0001', secret: SECRET }));
    expect(err.code).toBe('PRECONDITION_FAILED');
    expect(err.details).toMatchObject({ exchange: 'binance', upstream_error: 'AuthenticationError' });
  });

  it('dropped connections → UPSTREAM_UNAVAILABLE', async () => {
    const fresh = new CcxtConnector(info, ccxtOptionsFor(fx));
    fx.dropConnections(true);
    try {
      const err = await appError(fresh.loadMarkets());
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      const err2 = await appError(c.fetchTicker('BTC-USDT'));
      expect(err2.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      fx.dropConnections(false);
    }
  });

  it('a hang → TIMEOUT (request timeout below the deadline)', async () => {
    const slow = new CcxtConnector(info, ccxtOptionsFor(fx, { timeoutMs: 300, deadlineMs: 3000 }));
    fx.hang(true);
    try {
      const err = await appError(slow.loadMarkets());
      expect(err.code).toBe('TIMEOUT');
      expect(err.retryable).toBe(true);
    } finally {
      fx.hang(false);
    }
  }, 15_000);

  // ccxt keeps a rejected loadMarkets() promise and returns it on every later call; CcxtConnector reloads
  // while no markets are loaded, so one failed first load does not break the connector until restart.
  it('after one failed first loadMarkets, the same connector recovers once the exchange answers', async () => {
    const flaky = new CcxtConnector(info, ccxtOptionsFor(fx));
    fx.dropConnections(true);
    try {
      expect((await appError(flaky.loadMarkets())).code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      fx.dropConnections(false);
    }
    const seen = fx.requests.length;
    expect((await flaky.loadMarkets()).length).toBe(3);
    expect(fx.requests.length).toBeGreaterThan(seen);
  });

  it('the same for a private instance: a blip on its first call does not break that account', async () => {
    const creds = { api_key: KEY, secret: SECRET, uid: 'blip' };
    const fresh = new CcxtConnector(info, ccxtOptionsFor(fx));
    fx.fault({ mode: 'drop', times: 1 });
    expect((await appError(fresh.fetchBalances(creds))).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await fresh.fetchBalances(creds)).length).toBe(3);
  });

  // Binance's GET /api/v3/order carries no fills; CcxtConnector.fetchOrder reads them (GET /api/v3/myTrades)
  // so that an order that fills while resting gets its fill rows.
  it('fetchOrder of an order that filled while resting reports its trades and fee', async () => {
    const bid = fx.sim.orderBook(fx.sim.market('spot', 'SOL-USDT'), 1).bids[0]!.price;
    const placed = await c.createOrder(CREDS, { trading_pair: 'SOL-USDT', side: 'buy', order_type: 'limit', amount: '1', price: bid.toFixed(2), client_order_id: 'ord_rests_then_fills01' });
    expect(placed.status).toBe('open');
    for (let i = 0; i < 6 * 3600 && fx.orders(KEY).find((o) => o.orderId === Number(placed.exchange_order_id))!.status !== 'FILLED'; i++) fx.tick(1000);
    const got = await c.fetchOrder(CREDS, { exchange_order_id: placed.exchange_order_id }, 'SOL-USDT');
    expect(got).toMatchObject({ status: 'filled', filled: '1' });
    expect(got.trades.length).toBeGreaterThan(0);
    expect(got.fee).not.toBeNull();
  });
});
