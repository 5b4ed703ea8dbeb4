import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCandles, type LoadedCandles } from '../../src/core/backtest/candle-loader.js';
import { candlePath, PATH_POINTS, pathTimes } from '../../src/core/backtest/candle-path.js';
import { runBacktest, type BacktestResult } from '../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../src/core/backtest/spec.js';
import { ManualClock } from '../../src/core/clock.js';
import { Decimal } from '../../src/core/decimal.js';
import type { ControllerRun } from '../../src/core/executors/controller-run.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import { bollingerV1 } from '../../src/core/strategy/controllers/index.js';
import { pnlFraction, priceAtPnl } from '../../src/core/strategy/executors/barriers.js';
import { createExecutor } from '../../src/core/strategy/executors/registry.js';
import type { ExecutorReport, Side } from '../../src/core/strategy/types.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * One implementation, three clocks: bollinger_v1 on the same sim candles, run (a) by the backtester
 * over the candle path and (b) on the server's order path (every order through execute() into the paper
 * ledger) with a manual clock stepped over the same path times, so the controller sees the same closed
 * candles at the same moments. The same controller and executors make the same decisions; what may
 * differ is only what the two fill models feed them:
 *
 * - Prices. The backtester trades at the path price (a candle's open, extremes, close; no slippage
 *   here) with bid = ask; the paper engine trades at the sim book's touch (a buy at the ask, a sell at
 *   the bid) and an executor values its position at that touch. At a candle's open and close the path
 *   price is the sim mid rounded to the tick, so a fill there differs by less than the book's spread.
 * - Sampling. The backtester assumes the price passes through every level between two path points and
 *   stops at a barrier's exact price (stamped with the earlier point's time); its second and third
 *   points are the candle's low and high. The server sees only the book at the sampled times, and the
 *   sim's price at t + ⅓ and t + ⅔ of a minute lies inside the candle, not at its extremes. So a barrier
 *   closes on the server at the first sampled touch past it, at that touch's price, which can be a few
 *   path steps after the backtester's close when the backtester's crossing came from a wick.
 *
 * The test checks both runs against their own feeds (the backtester against the candle path, the server
 * against the sim book at each sampled time), and against each other within those differences. The
 * main run has no trailing stop: one armed by a wick the book never showed changes how an executor
 * ends, not only when and at what price; the last test shows that case (docs/backtesting.md, "Same code
 * on the server").
 */

const MIN = 60_000;
const STEP = MIN / 3;
const START = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
/** 217 one-minute candles: 17 executors closed in both runs by the end of the path, and one just created. */
const END = Date.UTC(2026, 5, 1, 15, 36, 0, 0);
const STEP_SIZE = new Decimal('0.00001');
const TAKER = new Decimal('0.001');
const SL = new Decimal('0.003');
const TP = new Decimal('0.003');

const CONFIG = {
  connector_name: 'sim',
  trading_pair: 'BTC-USDT',
  interval: '1m',
  bb_length: 20,
  bb_std: 2,
  total_amount_quote: '2000',
  max_executors_per_side: 2,
  cooldown_time: 60,
  stop_loss: SL.toNumber(),
  take_profit: TP.toNumber(),
  time_limit: 1200,
  take_profit_order_type: 'market',
  trailing_stop: null,
};

const D = (v: string | number) => new Decimal(String(v));
const opposite = (s: Side): Side => (s === 'buy' ? 'sell' : 'buy');

interface Fill {
  side: Side;
  price: Decimal;
  amount: Decimal;
  fee: Decimal;
  at: number;
}

describe.each(drivers())('one controller, the backtester and the paper order path (%s)', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(END + 2 * MIN);
  let bt: BacktestResult;
  let run: ControllerRun;
  /** The candle path as the backtester walks it: one segment per pair of consecutive points. */
  const segments: Array<{ t: number; from: number; to: number; tTo: number; k: number }> = [];

  const book = (t: number) => {
    const sim = s.services.connectors.sim;
    const b = sim.orderBook(sim.market('spot', 'BTC-USDT'), 1, t);
    return { bid: D(b.bids[0]!.price), ask: D(b.asks[0]!.price) };
  };
  /** What a position on `side` is valued and closed at on the server: the bid for a long, the ask for a short. */
  const mark = (side: Side, t: number) => (side === 'buy' ? book(t).bid : book(t).ask);
  /** Where a market order on `side` fills on the server: a buy at the ask, a sell at the bid. */
  const touch = (side: Side, t: number) => (side === 'buy' ? book(t).ask : book(t).bid);
  const spread = (t: number) => book(t).ask.minus(book(t).bid);

  const serverFills = async (clientOrderId: string): Promise<Fill[]> => {
    const r = (await s.services.db.execute(
      sql`select f.side, f.price::text, f.amount::text, f.fee::text, f.at from fills f join orders o on o.id = f.order_id where o.account_name = 'desk' and o.client_order_id = ${clientOrderId} order by f.id`,
    )) as unknown as { rows: Array<{ side: Side; price: string; amount: string; fee: string; at: Date | string }> };
    return r.rows.map((f) => ({ side: f.side, price: D(f.price), amount: D(f.amount), fee: D(f.fee), at: new Date(f.at).getTime() }));
  };
  const backtestFills = (executorId: string): Fill[] =>
    bt.fills.filter((f) => f.executor_id === executorId).map((f) => ({ side: f.side, price: D(f.price), amount: D(f.amount), fee: D(f.fee), at: f.timestamp }));

  let loaded: LoadedCandles;
  /** (a) The backtester, over the sim candles of the range. */
  const backtest = (config: Record<string, unknown>) => {
    const spec = BacktestSpec.parse({
      controller: { name: 'bollinger_v1', config },
      connector: 'sim',
      trading_pair: 'BTC-USDT',
      start: START,
      end: END,
      resolution: '1m',
      // The paper engine's spot fees; all orders here are market orders (taker).
      maker_fee: 0.0008,
      taker_fee: TAKER.toNumber(),
      initial_balances: { base: '1', quote: '100000' },
    });
    const market = simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')!;
    return runBacktest(spec, loaded.columns, null, { controller: () => bollingerV1, createExecutor, market });
  };
  /** (b) The same controller on the paper order path of `account`, the clock stepped over the same path times. */
  const serve = async (id: string, account: string, config: Record<string, unknown>, until = END, before?: () => Promise<void>) => {
    const r = await s.call('POST', '/accounts', { account_name: account, connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '1' } }] });
    expect(r.status, r.text).toBe(201);
    await before?.();
    const served = s.services.controllerRuns.start({
      id,
      accountName: account,
      controller: bollingerV1,
      config,
      principal: { name: 'desk-bot', role: 'trader', accounts: null, stored: false, channel: 'rest' },
    });
    const at = new Float64Array(PATH_POINTS);
    const opens = new Float64Array(1);
    for (let t = START; t <= until; t += MIN) {
      opens[0] = t;
      pathTimes(opens, 0, MIN, at);
      for (const time of at) {
        clock.set(time);
        await served.step();
      }
    }
    return served;
  };

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock, executors: { intervalMs: null } });
    // Read once the clock is past the range: sim candles never look past now.
    clock.set(END + 2 * MIN);
    loaded = await loadCandles(s.services.marketData, { connector: 'sim', tradingPair: 'BTC-USDT', interval: '1m', start: START, end: END, warmupBars: CONFIG.bb_length });
    const c = loaded.columns;
    const path = new Float64Array(PATH_POINTS);
    const at = new Float64Array(PATH_POINTS);
    for (let i = loaded.startIndex; i < c.time.length; i++) {
      candlePath(c, i, 'direction', path);
      pathTimes(c.time, i, MIN, at);
      for (let k = 1; k < PATH_POINTS; k++) segments.push({ t: at[k - 1]!, from: path[k - 1]!, to: path[k]!, tTo: at[k]!, k });
    }
    bt = backtest(CONFIG);
    run = await serve('three-clocks', 'desk', CONFIG);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('creates the same executors at the same times, and they close the same way', () => {
    const live = run.reports();
    const ran = bt.executors;
    expect(run.errors).toEqual({ count: 0, last: null });
    expect(live.length).toBe(18);
    expect(live.map((e) => [e.side, e.createdAt])).toEqual(ran.map((e) => [e.side, e.createdAt]));
    expect(live.map((e) => e.closeType)).toEqual(ran.map((e) => e.closeType));
    // The last one is created at the range's last path time, in both runs, and never ticked.
    expect([live[17]!.createdAt, live[17]!.status, ran[17]!.status]).toEqual([END + MIN, 'not_started', 'not_started']);
    expect(live.slice(0, 17).every((e) => e.status === 'terminated') && ran.slice(0, 17).every((e) => e.status === 'terminated')).toBe(true);
    // Several executors and every close type the barriers give.
    expect(new Set(live.slice(0, 17).map((e) => e.closeType))).toEqual(new Set(['TIME_LIMIT', 'TAKE_PROFIT', 'STOP_LOSS']));
    expect(new Set(live.map((e) => e.side))).toEqual(new Set(['buy', 'sell']));
    // How many path steps (20 s) after the backtester's close the server's came: none at a deadline. At a
    // barrier the backtester stops between two points and stamps the stop with the earlier one; the
    // server sees it at the later one (1), or already at the earlier one when its touch, half a spread
    // worse than the path price, had crossed there (0), or later when the path reached the barrier at a
    // candle's low or high that the book's touch did not (2, 3: the next test says whether by a wick or
    // by the spread).
    expect(live.slice(0, 17).map((e, i) => (e.closedAt! - ran[i]!.closedAt!) / STEP)).toEqual([0, 0, 0, 3, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1]);
  });

  it('each executor opens at the same moment within the book\'s spread, and closes where its own feed crosses a barrier', async () => {
    const live = run.reports().slice(0, 17);
    const late: Array<[number, string]> = [];
    for (let i = 0; i < live.length; i++) {
      const l = live[i]! as ExecutorReport;
      const b = bt.executors[i]!;
      const side = l.side!;
      const what = `executor ${i} (${side}, ${new Date(l.createdAt).toISOString()}, ${l.closeType})`;
      const [lOpen, lClose, ...lMore] = (await Promise.all(run.ordersOf(l.id).map(serverFills))).map((f) => {
        expect(f, what).toHaveLength(1);
        return f[0]!;
      });
      const [bOpen, bClose, ...bMore] = backtestFills(b.id);
      expect(lMore.length + bMore.length, what).toBe(0);

      // Opened at market at the step after the decision (the same moment: the next candle's open).
      for (const o of [lOpen!, bOpen!]) expect([o.side, o.at], what).toEqual([side, l.createdAt]);
      // The amount is the quote over the mid (the path price, or the book's mid), floored to the step.
      expect(lOpen!.amount.minus(bOpen!.amount).abs().lte(STEP_SIZE), what).toBe(true);
      expect(lOpen!.price.eq(touch(side, l.createdAt)), what).toBe(true);
      const entryGap = lOpen!.price.minus(bOpen!.price).abs();
      expect(entryGap.lte(spread(l.createdAt)), what).toBe(true);

      for (const c of [lClose!, bClose!]) expect(c.side, what).toBe(opposite(side));
      expect(lClose!.amount.eq(lOpen!.amount) && bClose!.amount.eq(bOpen!.amount), what).toBe(true);
      expect([lClose!.at, bClose!.at], what).toEqual([l.closedAt, b.closedAt]);
      expect(lClose!.price.eq(touch(opposite(side), l.closedAt!)), what).toBe(true);

      let exitBound: Decimal;
      if (l.closeType === 'TIME_LIMIT') {
        // The deadline is a path time: both close there, at the close price and at the book's touch.
        expect(l.closedAt, what).toBe(l.createdAt + CONFIG.time_limit * 1000);
        expect(b.closedAt, what).toBe(l.closedAt);
        exitBound = spread(l.closedAt!);
      } else {
        const f = l.closeType === 'STOP_LOSS' ? SL.neg() : TP;
        const hits = (entry: Decimal, price: Decimal) => (f.isNegative() ? pnlFraction(side, entry, price).lte(f) : pnlFraction(side, entry, price).gte(f));

        // The backtester: the first path segment after the open that reaches the barrier of its own
        // entry; it stops at the barrier's price, stamped with the segment's first point.
        const bBarrier = priceAtPnl(side, bOpen!.price, f);
        const first = segments.findIndex((sg) => sg.t >= l.createdAt && (hits(bOpen!.price, D(sg.to)) || hits(bOpen!.price, D(sg.from))));
        const seg = segments[first]!;
        expect(seg.t, what).toBe(b.closedAt);
        expect(bClose!.price.minus(bBarrier).abs().div(bBarrier).lt(1e-9), what).toBe(true);

        // The server: the first sampled book after the open whose touch is past the barrier of its own entry.
        const lBarrier = priceAtPnl(side, lOpen!.price, f);
        let t = l.createdAt + STEP;
        while (t < l.closedAt! && !hits(lOpen!.price, mark(side, t))) t += STEP;
        expect(t, what).toBe(l.closedAt);
        expect(hits(lOpen!.price, mark(side, t)), what).toBe(true);
        // Its exit is past its barrier by at most the touch's move over the last sampled step.
        const overshoot = mark(side, t).minus(mark(side, t - STEP)).abs();
        expect(lClose!.price.minus(lBarrier).abs().lte(overshoot), what).toBe(true);
        exitBound = lBarrier.minus(bBarrier).abs().plus(overshoot).plus(bBarrier.times(1e-9));
        // Later than the end of the backtester's segment: that segment ran to a candle's low or high, and
        // the book at that moment either never quoted it (a wick: its mid is short of the barrier) or
        // quoted it at the mid but not at the touch the position is valued at (the half spread).
        if (l.closedAt! > seg.tTo) {
          expect(seg.k === 1 || seg.k === 2, what).toBe(true);
          const mid = book(seg.tTo).bid.plus(book(seg.tTo).ask).div(2);
          if (!hits(bOpen!.price, mid)) late.push([i, 'wick']);
          else if (!hits(lOpen!.price, mark(side, seg.tTo))) late.push([i, 'spread']);
          else late.push([i, 'unexplained']);
        }
      }
      const exitGap = lClose!.price.minus(bClose!.price).abs();
      expect(exitGap.lte(exitBound), what).toBe(true);

      // Each report's PnL is its fills' own (sold − bought − fees), and the two differ by no more than
      // the price gaps allow: amount × (entry gap + exit gap), plus the fees on those gaps.
      const net = (o: Fill, c: Fill) => (side === 'buy' ? c.price.minus(o.price) : o.price.minus(c.price)).times(o.amount).minus(o.fee).minus(c.fee);
      expect(l.netPnl.eq(net(lOpen!, lClose!)), what).toBe(true);
      expect(D(b.netPnl as string).eq(net(bOpen!, bClose!)), what).toBe(true);
      // (A different amount adds its own PnL and fees: one step at most, see above.)
      const amountGap = lOpen!.amount.minus(bOpen!.amount).abs();
      const pnlBound = Decimal.max(lOpen!.amount, bOpen!.amount)
        .times(entryGap.plus(exitGap))
        .times(D(1).plus(TAKER))
        .plus(amountGap.times(lClose!.price.minus(lOpen!.price).abs().plus(TAKER.times(lOpen!.price.plus(lClose!.price)))));
      expect(l.netPnl.minus(D(b.netPnl as string)).abs().lte(pnlBound), what).toBe(true);
    }
    expect(late).toEqual([
      [3, 'spread'],
      [4, 'wick'],
      [15, 'wick'],
    ]);
  });

  it('runs every order through execute() as the run\'s principal, journaled', async () => {
    const r = (await s.services.db.execute(sql`select principal, command, outcome, count(*)::int as n from audit_events where request_id like 'controller:three-clocks:%' group by 1, 2, 3`)) as unknown as { rows: unknown[] };
    expect(r.rows).toEqual([{ principal: 'desk-bot', command: 'trading_place_order', outcome: 'OK', n: 34 }]);
  });

  it('a controller run\'s orders meet the account\'s kill switch like anyone\'s', async () => {
    const halted = await serve('three-clocks-halted', 'halted', CONFIG, START + 6 * MIN, async () => {
      const ks = await s.call('POST', '/safety/kill-switch', { account_name: 'halted', reason: 'test' });
      expect(ks.status, ks.text).toBe(200);
    });
    // The first signal's executor (12:06, as in the main run) has its opening order refused, and ends;
    // an ended executor holds no cooldown, so the signal still there at the next close makes another.
    expect(halted.reports().map((e) => [e.createdAt, e.status, e.closeType])).toEqual([
      [START + 6 * MIN, 'terminated', 'FAILED'],
      [START + 7 * MIN, 'not_started', null],
    ]);
    expect(halted.errors.count).toBe(1);
    const r = (await s.services.db.execute(sql`select principal, outcome from audit_events where request_id like 'controller:three-clocks-halted:%'`)) as unknown as { rows: unknown[] };
    expect(r.rows).toEqual([{ principal: 'desk-bot', outcome: 'KILL_SWITCH_ACTIVE' }]);
    const orders = (await s.services.db.execute(sql`select count(*)::int as n from orders where account_name = 'halted'`)) as unknown as { rows: unknown[] };
    expect(orders.rows).toEqual([{ n: 0 }]);
  });

  it('a trailing stop armed only by a wick in the backtest is never armed on the server, so that executor ends another way', async () => {
    const trailing = { activation_price: 0.002, trailing_delta: 0.001 };
    const withTrailing = { ...CONFIG, trailing_stop: trailing };
    const ran = backtest(withTrailing).executors;
    const live = (await serve('three-clocks-trailing', 'trail', withTrailing)).reports();
    expect(live.map((e) => [e.side, e.createdAt])).toEqual(ran.map((e) => [e.side, e.createdAt]));
    const differ = live.flatMap((e, i) => (e.closeType === ran[i]!.closeType ? [] : [i]));
    // The same closes up to the 15th executor, which the backtester ends by its trailing stop and the server by its time limit.
    expect(differ[0]).toBe(14);
    const [l, b] = [live[14]!, ran[14]!];
    expect([b.side, b.closeType, l.closeType]).toEqual(['buy', 'TRAILING_STOP', 'TIME_LIMIT']);

    // The backtester armed it: the candle path rose to the activation price of its entry...
    const act = new Decimal(String(trailing.activation_price));
    const bEntry = D(b.entryPrice as string);
    const armedAt = segments.find((sg) => sg.t >= b.createdAt && sg.t < b.closedAt! && pnlFraction('buy', bEntry, D(sg.to)).gte(act));
    expect(armedAt, 'the path reached the activation').toBeDefined();
    // ...at a candle's high, while the book's bid never came near it at any sampled time until the
    // server's deadline close.
    expect(armedAt!.k === 1 || armedAt!.k === 2).toBe(true);
    for (let t = l.createdAt + STEP; t <= l.closedAt!; t += STEP) expect(pnlFraction('buy', l.entryPrice!, mark('buy', t)).lt(act), new Date(t).toISOString()).toBe(true);
  });
});
