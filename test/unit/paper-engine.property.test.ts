import fc from 'fast-check';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { fills, orders, paperBalances, positions, type FillRow, type OrderRow } from '../../src/core/db/schema/index.js';
import { Decimal } from '../../src/core/decimal.js';
import type { OrderBook } from '../../src/core/exchange/types.js';
import type { Services } from '../../src/app/services.js';
import { testServices } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * Properties of the paper matching engine over random sequences of orders, cancels, clock moves and
 * matching passes, run against the real TradingService and PaperEngine on Postgres with the sim exchange
 * on a pinned clock (so the book an order met can be read back exactly).
 */

const D = (v: string | number | null | undefined) => new Decimal(v === null || v === undefined ? '0' : String(v));
const ZERO = D(0);

type Venue = 'sim' | 'sim_perpetual';
type Pair = 'BTC-USDT' | 'ETH-USDT';
type Step =
  /** A limit price `offsetBps` from the mid, or (atTouch) on the best price of its own side, where it rests until the market moves. */
  | { kind: 'place'; venue: Venue; pair: Pair; side: 'buy' | 'sell'; type: 'market' | 'limit' | 'limit_maker'; notional: number; offsetBps: number; atTouch: boolean }
  | { kind: 'close'; pair: Pair; fraction: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'match' }
  | { kind: 'tick'; seconds: number; match: boolean };

const pair = fc.constantFrom<Pair>('BTC-USDT', 'ETH-USDT');
const side = fc.constantFrom<'buy' | 'sell'>('buy', 'sell');
const orderType = fc.constantFrom<'market' | 'limit' | 'limit_maker'>('market', 'limit', 'limit', 'limit_maker');
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('place' as const), venue: fc.constant<Venue>('sim'), pair, side, type: orderType, notional: fc.integer({ min: 6, max: 2500 }), offsetBps: fc.integer({ min: -15, max: 15 }), atTouch: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('place' as const), venue: fc.constant<Venue>('sim_perpetual'), pair, side, type: orderType, notional: fc.integer({ min: 80, max: 4000 }), offsetBps: fc.integer({ min: -15, max: 15 }), atTouch: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), pair, fraction: fc.constantFrom(0.3, 0.5, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'match' as const }) },
  // Long enough for the price to reach the resting orders now and then.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 30, max: 1800 }), match: fc.boolean() }) },
);
const scenario = fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 12 }), leverage: fc.integer({ min: 1, max: 10 }) });

/** Refusals an order may meet here; anything else (INTERNAL above all) breaks the property. */
const EXPECTED_REFUSALS = new Set(['UPSTREAM_REJECTED', 'VALIDATION_FAILED']);

const START_BALANCES = { sim: { USDT: '10000', BTC: '0.2', ETH: '3' }, sim_perpetual: { USDT: '10000' } } as const;

describe('paper engine properties (Postgres, sim on a pinned clock)', () => {
  let services: Services;
  let close: () => Promise<void>;
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 12, 0, 0));
  let runs = 0;
  const stats = { placed: 0, refused: 0, takerFills: 0, makerFills: 0, perpFills: 0, realizedFills: 0, cancels: 0 };

  beforeAll(async () => {
    ({ services, close } = await testServices('postgres', {}, { clock }));
  });
  afterAll(async () => close?.());

  const book = async (venue: Venue, p: Pair): Promise<OrderBook> => (await services.connectors.get(venue)).fetchOrderBook(p, 100);

  async function balanceRows(account: string) {
    return services.db.select().from(paperBalances).where(eq(paperBalances.accountName, account));
  }
  async function balance(account: string, connector: Venue, asset: string) {
    const [row] = await services.db
      .select()
      .from(paperBalances)
      .where(and(eq(paperBalances.accountName, account), eq(paperBalances.connectorName, connector), eq(paperBalances.asset, asset)));
    return { total: D(row?.total), locked: D(row?.locked) };
  }
  const ordersOf = (account: string): Promise<OrderRow[]> => services.db.select().from(orders).where(eq(orders.accountName, account));
  const fillsOf = (account: string): Promise<FillRow[]> => services.db.select().from(fills).where(eq(fills.accountName, account));

  /** (a) and the reservation ledger: nothing negative, and locked is exactly what the open orders reserve. */
  async function checkBalances(account: string, where: string): Promise<void> {
    const rows = await balanceRows(account);
    const open = (await ordersOf(account)).filter((o) => o.status === 'open' || o.status === 'partially_filled');
    for (const r of rows) {
      const total = D(r.total);
      const locked = D(r.locked);
      expect(total.isNegative(), `${where}: ${r.connectorName} ${r.asset} total ${total}`).toBe(false);
      expect(locked.isNegative(), `${where}: ${r.connectorName} ${r.asset} locked ${locked}`).toBe(false);
      expect(total.minus(locked).isNegative(), `${where}: ${r.connectorName} ${r.asset} available ${total.minus(locked)}`).toBe(false);
      const reserved = open.filter((o) => o.connectorName === r.connectorName && o.reservedAsset === r.asset).reduce((s, o) => s.plus(D(o.reservedAmount)), ZERO);
      expect(locked.toString(), `${where}: ${r.connectorName} ${r.asset} locked vs reserved by open orders`).toBe(reserved.toString());
    }
  }

  async function runScenario(steps: Step[], leverage: number): Promise<{ makerFills: number; realizedFills: number; takerFills: number }> {
    const account = `prop_${++runs}`;
    await services.accounts.create(account, [
      { connector_name: 'sim', paper_balances: { ...START_BALANCES.sim } },
      { connector_name: 'sim_perpetual', paper_balances: { ...START_BALANCES.sim_perpetual } },
    ]);
    const before = {
      usdt: (await balance(account, 'sim', 'USDT')).total,
      btc: (await balance(account, 'sim', 'BTC')).total,
      eth: (await balance(account, 'sim', 'ETH')).total,
      perp: (await balance(account, 'sim_perpetual', 'USDT')).total,
    };
    /** The touch of the book each order met when it was placed, for (d). */
    const touch = new Map<string, { bestBid: Decimal; bestAsk: Decimal }>();

    const place = async (venue: Venue, req: Parameters<Services['trading']['place']>[0], p: Pair) => {
      const ob = await book(venue, p);
      try {
        const r = await services.trading.place(req);
        stats.placed++;
        touch.set(r.order.id, { bestBid: D(ob.bids[0]!.price), bestAsk: D(ob.asks[0]!.price) });
        expect(r.order.status, `order ${r.order.id} left ${r.order.status}`).not.toBe('pending_submit');
      } catch (err) {
        if (!(err instanceof AppError) || !EXPECTED_REFUSALS.has(err.code)) throw err;
        stats.refused++;
      }
    };

    for (const [i, s] of steps.entries()) {
      if (s.kind === 'tick') {
        clock.advance(s.seconds * 1000);
        if (s.match) await services.trading.matchOnce();
      }
      else if (s.kind === 'match') await services.trading.matchOnce();
      else if (s.kind === 'cancel') {
        const open = (await ordersOf(account)).filter((o) => o.status === 'open' || o.status === 'partially_filled').sort((a, b) => a.id.localeCompare(b.id));
        if (open.length) {
          await services.trading.cancel(account, open[s.pick % open.length]!.id);
          stats.cancels++;
        }
      } else if (s.kind === 'close') {
        const [p] = await services.db
          .select()
          .from(positions)
          .where(and(eq(positions.accountName, account), eq(positions.connectorName, 'sim_perpetual'), eq(positions.tradingPair, s.pair)));
        if (p && !D(p.amount).isZero()) {
          const ob = await book('sim_perpetual', s.pair);
          try {
            const r = await services.trading.closePosition({ account_name: account, connector_name: 'sim_perpetual', trading_pair: s.pair, amount: D(p.amount).abs().times(s.fraction).toFixed() });
            touch.set(r.order.id, { bestBid: D(ob.bids[0]!.price), bestAsk: D(ob.asks[0]!.price) });
          } catch (err) {
            if (!(err instanceof AppError) || !EXPECTED_REFUSALS.has(err.code)) throw err;
            stats.refused++;
          }
        }
      } else {
        const ob = await book(s.venue, s.pair);
        const mid = D(ob.bids[0]!.price).plus(D(ob.asks[0]!.price)).div(2);
        const amount = D(s.notional).div(mid).toDecimalPlaces(5, Decimal.ROUND_DOWN);
        const touchPrice = D(s.side === 'buy' ? ob.bids[0]!.price : ob.asks[0]!.price);
        const price = s.type === 'market' ? undefined : (s.atTouch ? touchPrice : mid.times(D(10_000 + s.offsetBps).div(10_000)).toDecimalPlaces(2)).toFixed();
        await place(
          s.venue,
          {
            account_name: account,
            connector_name: s.venue,
            trading_pair: s.pair,
            side: s.side,
            order_type: s.type,
            amount: amount.toFixed(),
            price,
            ...(s.venue === 'sim_perpetual' ? { leverage } : {}),
          },
          s.pair,
        );
      }
      await checkBalances(account, `after step ${i} (${s.kind})`);
    }

    // (c) After cancelling every open order, nothing is locked.
    for (const o of await ordersOf(account)) {
      if (o.status === 'open' || o.status === 'partially_filled') await services.trading.cancel(account, o.id);
    }
    const all = await ordersOf(account);
    expect(all.filter((o) => ['open', 'partially_filled', 'pending_submit'].includes(o.status))).toEqual([]);
    for (const r of await balanceRows(account)) expect(`${r.connectorName} ${r.asset} locked ${D(r.locked)}`).toBe(`${r.connectorName} ${r.asset} locked 0`);
    await checkBalances(account, 'after cancelling everything');

    const fillRows = await fillsOf(account);
    const byOrder = new Map(all.map((o) => [o.id, o]));

    // Each order's totals are the sum of its fills.
    for (const o of all) {
      const mine = fillRows.filter((f) => f.orderId === o.id);
      expect(D(o.filledAmount).toString(), `filled_amount of ${o.id}`).toBe(mine.reduce((s, f) => s.plus(D(f.amount)), ZERO).toString());
      expect(D(o.feePaid).toString(), `fee_paid of ${o.id}`).toBe(mine.reduce((s, f) => s.plus(D(f.fee)), ZERO).toString());
      expect(D(o.filledAmount).lte(D(o.amount)), `${o.id} overfilled`).toBe(true);
      if (o.status === 'rejected' || o.status === 'failed') expect(mine).toEqual([]);
    }

    // (d) A fill never beats the book it met; a resting order fills at its own limit price.
    for (const f of fillRows) {
      const o = byOrder.get(f.orderId)!;
      const price = D(f.price);
      if (f.isMaker) {
        stats.makerFills++;
        expect(price.toString(), `maker fill of ${o.id}`).toBe(D(o.price).toString());
      } else {
        stats.takerFills++;
        const t = touch.get(o.id);
        expect(t, `taker fill of ${o.id} without a recorded book`).toBeDefined();
        if (f.side === 'buy') expect(price.gte(t!.bestAsk), `buy fill ${price} below the best ask ${t!.bestAsk}`).toBe(true);
        else expect(price.lte(t!.bestBid), `sell fill ${price} above the best bid ${t!.bestBid}`).toBe(true);
        if (o.price) expect(f.side === 'buy' ? price.lte(D(o.price)) : price.gte(D(o.price)), `taker fill ${price} past the limit ${o.price}`).toBe(true);
      }
    }

    // (b) Spot value is conserved minus fees, exactly: quote change + Σ ±amount·price = −Σ fees, and base moves by the amounts.
    const spot = fillRows.filter((f) => f.connectorName === 'sim');
    const after = { usdt: (await balance(account, 'sim', 'USDT')).total, btc: (await balance(account, 'sim', 'BTC')).total, eth: (await balance(account, 'sim', 'ETH')).total };
    const signed = (f: FillRow) => (f.side === 'buy' ? D(f.amount) : D(f.amount).neg());
    const traded = spot.reduce((s, f) => s.plus(signed(f).times(D(f.price))), ZERO);
    const spotFees = spot.reduce((s, f) => s.plus(D(f.fee)), ZERO);
    expect(spot.every((f) => f.feeAsset === 'USDT')).toBe(true);
    expect(after.usdt.minus(before.usdt).plus(traded).toString(), 'spot USDT change + traded value').toBe(spotFees.neg().toString());
    for (const [asset, pairName] of [
      ['btc', 'BTC-USDT'],
      ['eth', 'ETH-USDT'],
    ] as const) {
      const moved = spot.filter((f) => f.tradingPair === pairName).reduce((s, f) => s.plus(signed(f)), ZERO);
      expect(after[asset].minus(before[asset]).toString(), `${asset} change`).toBe(moved.toString());
    }

    // (e) Perpetuals: the USDT total moves by realized PnL minus fees, exactly.
    const perp = fillRows.filter((f) => f.connectorName === 'sim_perpetual');
    stats.perpFills += perp.length;
    stats.realizedFills += perp.filter((f) => f.realizedPnl !== null && !D(f.realizedPnl).isZero()).length;
    const realized = perp.reduce((s, f) => s.plus(D(f.realizedPnl)), ZERO);
    const perpFees = perp.reduce((s, f) => s.plus(D(f.fee)), ZERO);
    const perpAfter = (await balance(account, 'sim_perpetual', 'USDT')).total;
    expect(perpAfter.minus(before.perp).toString(), 'perpetual USDT change').toBe(realized.minus(perpFees).toString());
    const posRows = await services.db.select().from(positions).where(eq(positions.accountName, account));
    expect(posRows.reduce((s, p) => s.plus(D(p.realizedPnl)), ZERO).toString(), 'realized PnL kept on positions').toBe(realized.toString());
    // The position is the net of its fills, and holds margin exactly when open.
    for (const p of posRows) {
      const net = perp.filter((f) => f.tradingPair === p.tradingPair).reduce((s, f) => s.plus(signed(f)), ZERO);
      expect(D(p.amount).toString(), `${p.tradingPair} position`).toBe(net.toString());
      expect(D(p.margin).isZero()).toBe(D(p.amount).isZero());
    }
    return {
      makerFills: fillRows.filter((f) => f.isMaker).length,
      takerFills: fillRows.filter((f) => !f.isMaker).length,
      realizedFills: perp.filter((f) => f.realizedPnl !== null && !D(f.realizedPnl).isZero()).length,
    };
  }

  it('holds on a fixed run with resting fills, a flip through zero and partial closes', async () => {
    clock.set(Date.UTC(2026, 2, 10, 12, 0, 0));
    const place = (venue: Venue, p: Pair, side: 'buy' | 'sell', type: 'market' | 'limit' | 'limit_maker', notional: number, atTouch = false): Step => ({ kind: 'place', venue, pair: p, side, type, notional, offsetBps: 0, atTouch });
    const tick = (seconds: number): Step => ({ kind: 'tick', seconds, match: true });
    const r = await runScenario(
      [
        place('sim', 'BTC-USDT', 'buy', 'limit', 500, true),
        place('sim', 'BTC-USDT', 'sell', 'limit_maker', 400, true),
        place('sim_perpetual', 'BTC-USDT', 'buy', 'market', 1500),
        place('sim_perpetual', 'BTC-USDT', 'sell', 'limit', 800, true),
        tick(300),
        tick(300),
        place('sim_perpetual', 'BTC-USDT', 'sell', 'market', 3000),
        { kind: 'close', pair: 'BTC-USDT', fraction: 0.5 },
        place('sim', 'ETH-USDT', 'buy', 'market', 300),
        tick(600),
        { kind: 'close', pair: 'BTC-USDT', fraction: 1 },
        { kind: 'cancel', pick: 0 },
      ],
      5,
    );
    expect(r.makerFills, 'a resting order filled').toBeGreaterThan(0);
    expect(r.realizedFills, 'a perpetual fill realised PnL').toBeGreaterThan(0);
    expect(r.takerFills).toBeGreaterThan(2);
  }, 60_000);

  it('a perpetual limit order that omits leverage reserves margin at the open position\'s leverage, as its funds check assumed', async () => {
    clock.set(Date.UTC(2026, 2, 11, 12, 0, 0));
    const account = 'lev_inherit';
    await services.accounts.create(account, [{ connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }]);
    const opened = await services.trading.place({ account_name: account, connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.01', leverage: 3 });
    expect(opened.order.status).toBe('filled');
    const ob = await book('sim_perpetual', 'BTC-USDT');
    const low = D(ob.bids[0]!.price).div(2).toDecimalPlaces(1, Decimal.ROUND_DOWN);
    // Worth more than the whole balance at 1x, well within it at the position's 3x.
    const amount = D('0.4');
    const notional = amount.times(low);
    expect(notional.gt(10_000) && notional.div(3).lt(9_000)).toBe(true);
    const r = await services.trading.place({ account_name: account, connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: amount.toFixed(), price: low.toFixed() });
    expect(r.order.status).toBe('open');
    const expected = notional.div(3).toDecimalPlaces(18).plus(notional.times('0.0002'));
    expect(D(r.order.reservedAmount).toString()).toBe(expected.toString());
    expect((await balance(account, 'sim_perpetual', 'USDT')).locked.toString()).toBe(expected.toString());
    await checkBalances(account, 'after the inherited-leverage limit');
  });

  it('keeps balances non-negative, reservations exact, value conserved and fills within the book', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ steps, leverage }) => {
        await runScenario(steps, leverage);
      }),
      { numRuns: 25 },
    );
    // The runs did exercise what the properties talk about.
    expect(stats.placed).toBeGreaterThan(20);
    expect(stats.takerFills).toBeGreaterThan(0);
    expect(stats.perpFills).toBeGreaterThan(0);
  }, 180_000);
});
