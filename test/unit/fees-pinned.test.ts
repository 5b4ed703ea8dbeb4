import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fills, orders, type OrderRow } from '../../src/core/db/schema/index.js';
import { requestHash, type OrderPlan, type PlaceOrder } from '../../src/core/trading/order-plan.js';
import { placePaperOrder } from '../../src/core/trading/paper/paper-order.js';
import { Decimal } from '../../src/core/decimal.js';
import type { Market, MarketType, OrderBook } from '../../src/core/exchange/types.js';
import type { Services } from '../../src/app/services.js';
import { drivers, testServer, testServices, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';
import { TWO_LEVEL_BOOK as BOOK } from '../helpers/two-level-book.js';

/**
 * Fee amounts pinned to the decimal on a fixed book, for spot and perpetual, taker and maker, and the
 * preview's estimate. Every other test only checks that a fee is positive, so a rate ten times off or a
 * maker fill charged the taker rate would pass them; these fail.
 *
 * The book: asks 100 × 1 then 101 × 5, bids 99 × 1 then 98 × 5. Rates: spot maker 0.08 %, taker 0.1 %;
 * perpetual maker 0.02 %, taker 0.05 %.
 */
/** The same market after it moved down through 97.5: a resting buy at 98 is reached. */
const MOVED_DOWN: OrderBook = { ...BOOK, asks: [{ price: 97.5, amount: 10 }], bids: [{ price: 97, amount: 10 }] };

/** A stored numeric(38,18) as its shortest decimal: '0.201000000000000000' → '0.201'. */
const dec = (v: string) => new Decimal(v).toString();

describe.each(drivers())('paper fees on a fixed book on %s', (driver) => {
  let services: Services;
  let close: () => Promise<void>;
  const markets = new Map<string, Market>();

  beforeAll(async () => {
    ({ services, close } = await testServices(driver));
    for (const c of ['sim', 'sim_perpetual']) {
      const m = (await (await services.connectors.get(c)).loadMarkets()).find((x) => x.trading_pair === 'BTC-USDT')!;
      markets.set(c, m);
    }
  });
  afterAll(async () => close?.());

  /** A fresh account per test, so no test sees another's balances or positions. */
  async function freshAccount(): Promise<string> {
    const name = `fees_${randomUUID().slice(0, 8)}`;
    await services.accounts.create(name, [
      { connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '10' } },
      { connector_name: 'sim_perpetual', paper_balances: { USDT: '100000' } },
    ]);
    return name;
  }

  /** Places an order through the paper order path against `book` instead of the sim's own book. */
  async function submit(account: string, connector: 'sim' | 'sim_perpetual', o: { side: 'buy' | 'sell'; type: 'market' | 'limit'; amount: string; price?: string }, book = BOOK): Promise<OrderRow> {
    const marketType: MarketType = connector === 'sim' ? 'spot' : 'perpetual';
    const req: PlaceOrder = { account_name: account, connector_name: connector, trading_pair: 'BTC-USDT', side: o.side, order_type: o.type, amount: o.amount, ...(o.price ? { price: o.price } : {}), ...(connector === 'sim_perpetual' ? { leverage: 1 } : {}) };
    const market = markets.get(connector)!;
    const plan: OrderPlan = {
      req,
      venue: { info: await services.connectors.info(connector), market, marketType, bookSource: connector, book: async () => book },
      book,
      amount: new Decimal(o.amount),
      price: o.price ? new Decimal(o.price) : null,
      requestHash: requestHash(req),
      refusal: null,
    };
    const marks = async (pairs: string[]) => new Map(pairs.map((p) => [p, new Decimal('98.5')] as const));
    const placed = await services.locks.transaction(account, async (q) => placePaperOrder(q, plan, await services.trading.readLedger(q, plan), { now: services.clock.date(), marks }));
    return placed.order;
  }

  const feesOf = async (orderId: string) => (await services.db.select().from(fills).where(eq(fills.orderId, orderId))).map((f) => ({ price: Number(f.price), amount: Number(f.amount), fee: Number(f.fee), maker: f.isMaker }));

  it('spot taker: 0.1 % of each level walked', async () => {
    const a = await freshAccount();
    const o = await submit(a, 'sim', { side: 'buy', type: 'market', amount: '2' });
    expect(o.status).toBe('filled');
    // 1 × 100 × 0.001 = 0.1 and 1 × 101 × 0.001 = 0.101.
    expect(await feesOf(o.id)).toEqual([
      { price: 100, amount: 1, fee: 0.1, maker: false },
      { price: 101, amount: 1, fee: 0.101, maker: false },
    ]);
    expect(dec(o.feePaid)).toBe('0.201');
    const sell = await submit(a, 'sim', { side: 'sell', type: 'market', amount: '1.5' });
    // 1 × 99 × 0.001 + 0.5 × 98 × 0.001.
    expect(dec(sell.feePaid)).toBe('0.148');
  });

  it('spot maker: a resting limit filled later pays 0.08 %, not the taker rate', async () => {
    const a = await freshAccount();
    const o = await submit(a, 'sim', { side: 'buy', type: 'limit', amount: '1', price: '98' });
    expect(o.status).toBe('open');
    // 98 plus the maker fee on it is held back.
    expect(dec(o.reservedAmount)).toBe('98.0784');
    await matchAgainst(MOVED_DOWN);
    const [row] = await services.db.select().from(orders).where(eq(orders.id, o.id));
    expect(row!.status).toBe('filled');
    expect(await feesOf(o.id)).toEqual([{ price: 98, amount: 1, fee: 0.0784, maker: true }]);
    expect(dec(row!.feePaid)).toBe('0.0784');
  });

  it('perpetual taker: 0.05 % of each level walked', async () => {
    const a = await freshAccount();
    const o = await submit(a, 'sim_perpetual', { side: 'buy', type: 'market', amount: '2' });
    expect(o.status).toBe('filled');
    // 1 × 100 × 0.0005 = 0.05 and 1 × 101 × 0.0005 = 0.0505.
    expect(await feesOf(o.id)).toEqual([
      { price: 100, amount: 1, fee: 0.05, maker: false },
      { price: 101, amount: 1, fee: 0.0505, maker: false },
    ]);
    expect(dec(o.feePaid)).toBe('0.1005');
  });

  it('perpetual maker: a resting limit filled later pays 0.02 %', async () => {
    const a = await freshAccount();
    const o = await submit(a, 'sim_perpetual', { side: 'buy', type: 'limit', amount: '1', price: '98' });
    expect(o.status).toBe('open');
    // Margin at 1x (98) plus the maker fee (0.0196).
    expect(dec(o.reservedAmount)).toBe('98.0196');
    await matchAgainst(MOVED_DOWN);
    const [row] = await services.db.select().from(orders).where(eq(orders.id, o.id));
    expect(row!.status).toBe('filled');
    expect(await feesOf(o.id)).toEqual([{ price: 98, amount: 1, fee: 0.0196, maker: true }]);
    expect(dec(row!.feePaid)).toBe('0.0196');
  });

  /** One matching pass with every resting paper order seeing `book` on its own connector. */
  async function matchAgainst(book: OrderBook): Promise<void> {
    await services.trading.engine.matchResting(async (connector) => ({ ob: book, market: markets.get(connector)!, marketType: connector === 'sim' ? 'spot' : 'perpetual' }));
  }
});

describe.each(drivers())('the preview estimates the taker fee on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    // A pinned sim clock: the book the preview values against does not move between calls.
    s = await testServer(driver, {}, { clock: new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0, 0)) });
    const made = await s.call('POST', '/accounts', { account_name: 'preview_fees', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000' } }, { connector_name: 'sim_perpetual', paper_balances: { USDT: '100000' } }] });
    expect(made.status, made.text).toBe(201);
  });
  afterAll(async () => s?.stop());

  // A buy limit far above the market is valued at amount × its own price: 0.01 × 1,000,000 = 10,000.
  const order = (connector: string) => ({ account_name: 'preview_fees', connector_name: connector, trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.01', price: '1000000' });

  it.each([
    ['sim', 10],
    ['sim_perpetual', 5],
  ] as const)('%s: the estimate is the taker rate of the notional', async (connector, fee) => {
    const r = await s.call('POST', '/trading/orders/preview', order(connector));
    expect(r.status, r.text).toBe(200);
    expect(r.body.notional_quote).toBe(10_000);
    expect(r.body.estimated_fee).toBe(fee);
  });
});
