import type { Decimal } from '../decimal.js';
import type { CandleInterval, CandleRow, TradingRules } from '../exchange/types.js';
import type { ExecutorConfig, ExecutorType } from './executors/configs.js';

/**
 * The strategy engine's vocabulary. Controllers decide, executors execute; both are plain code that
 * reads time and prices only from what they are handed and places orders only through an OrderSink, so
 * the same code runs in a backtest (simulated clock, candle matcher), on the server's order path (wall
 * clock, every order through execute()) and in a bot. Nothing here imports the database, IO or a
 * transport: the layering test holds `src/core/strategy` to that.
 */

export type Side = 'buy' | 'sell';

/** Why an executor ended (the original's close types, same names, so reports compare). */
export const CLOSE_TYPES = [
  'TIME_LIMIT',
  'STOP_LOSS',
  'TAKE_PROFIT',
  'EXPIRED',
  'EARLY_STOP',
  'TRAILING_STOP',
  'INSUFFICIENT_BALANCE',
  'FAILED',
  'COMPLETED',
  'POSITION_HOLD',
] as const;
export type CloseType = (typeof CLOSE_TYPES)[number];

export type ExecutorStatus = 'not_started' | 'active' | 'shutting_down' | 'terminated';

// ---------------------------------------------------------------------------------------------------
// Orders: what an executor asks for and what it is told back

export type StrategyOrderType = 'market' | 'limit' | 'limit_maker';

export interface OrderRequest {
  /** Chosen by the executor (through ExecutorContext.newOrderId): idempotent across retries and restarts. */
  clientOrderId: string;
  connector: string;
  tradingPair: string;
  side: Side;
  type: StrategyOrderType;
  /** Base amount; the sink quantises it to the market's step and says so in the update. */
  amount: Decimal;
  /** Limit price (limit, limit_maker); absent for market orders. */
  price?: Decimal;
  /** Perpetuals: whether the order opens or closes position; absent on spot. */
  positionAction?: 'open' | 'close';
  leverage?: number;
}

export type OrderState = 'open' | 'partially_filled' | 'filled' | 'canceled' | 'rejected';

export interface OrderFill {
  price: Decimal;
  amount: Decimal;
  /** Fee in the quote asset. */
  fee: Decimal;
  isMaker: boolean;
  timestamp: number;
  /** amount × price, when the sink has it already (a backtest's venue): the ledger then skips the multiplication. */
  notional?: Decimal;
}

/** The state of one order as the sink knows it; sent after every change (cumulative, not a delta). */
export interface OrderUpdate {
  clientOrderId: string;
  state: OrderState;
  /** Cumulative filled base amount. */
  filled: Decimal;
  averagePrice: Decimal | null;
  /** Cumulative fees in quote. */
  fees: Decimal;
  /** The fills new since the previous update of this order. */
  newFills: OrderFill[];
  /** Why a rejection or a cancel by the venue happened (insufficient balance, post-only would take, a guardrail). */
  reason?: string;
  /** Machine-readable reason: an AppError code (`INSUFFICIENT_BALANCE`, `KILL_SWITCH_ACTIVE`, ...). */
  code?: string;
  /** A cancel of this still working order was refused (`code` and `reason` say why): it works on, and asking again may or may not help. */
  cancelRefused?: boolean;
  timestamp: number;
}

/**
 * Where executors send orders. Submitting queues the order and returns at once; the outcome (open,
 * fills, rejection) reaches the executor through `Executor.onOrderUpdate`. The backtester's sink matches
 * on the candle path; the server's runs each order through execute() as the executor's principal, so
 * guardrails, the kill switch and the journal apply; a bot's sends it to the server over MQTT.
 */
export interface OrderSink {
  submit(order: OrderRequest): void;
  cancel(connector: string, tradingPair: string, clientOrderId: string): void;
}

// ---------------------------------------------------------------------------------------------------
// What executors and controllers see

/** Top of the book (or a candle path point in a backtest, where bid = ask = the point's price). */
export interface Quote {
  bid: Decimal;
  ask: Decimal;
  mid: Decimal;
}

/** Market data, as of `now`: candles are closed ones only (no look-ahead), newest last. */
export interface MarketView {
  readonly now: number;
  quote(connector: string, tradingPair: string): Quote | null;
  /** Closed candles (open time + interval <= now), at most `limit` newest, oldest first. */
  candles(connector: string, tradingPair: string, interval: CandleInterval, limit?: number): readonly CandleRow[];
  /**
   * Optional: the newest closed candle, written into `into` (what candles(…, 1) would list, with no
   * array or row built): true when written, false when none has closed, null when this view cannot
   * answer that way for the interval (ask candles()).
   */
  newestClosedInto?(connector: string, tradingPair: string, interval: CandleInterval, into: CandleRow): boolean | null;
  /** The market's order rules (minimum size, amount step, tick, minimum notional); null when the view does not know the market. */
  rules(connector: string, tradingPair: string): TradingRules | null;
}

export interface ExecutorContext {
  readonly now: number;
  readonly market: MarketView;
  readonly sink: OrderSink;
  /** A fresh client order id, unique and deterministic within a run (a backtest gives the same ids twice). */
  newOrderId(): string;
}

/** What an executor reports: PnL in quote, net of fees; amounts in base. */
export interface ExecutorReport {
  id: string;
  type: ExecutorType;
  connector: string;
  tradingPair: string;
  side: Side | null;
  status: ExecutorStatus;
  closeType: CloseType | null;
  createdAt: number;
  closedAt: number | null;
  /** Filled base amount still held (0 after a full close). */
  positionAmount: Decimal;
  /** Average entry price of what was bought/sold to open, null before any fill. */
  entryPrice: Decimal | null;
  /** Quote volume traded (both legs). */
  volume: Decimal;
  fees: Decimal;
  realizedPnl: Decimal;
  unrealizedPnl: Decimal;
  /** realized + unrealized, net of fees. */
  netPnl: Decimal;
  /** netPnl over the quote amount the executor put at risk. */
  netPnlPct: Decimal;
  /** Executor-specific state worth showing (barrier prices, grid levels, next TWAP slice...). */
  custom: Record<string, unknown>;
}

/**
 * An executor: a state machine driven by ticks and order updates. `tick` runs once per step of its
 * runtime (every path point of a candle in a backtest, every update interval live); it may submit and
 * cancel orders through `ctx.sink`. `state()` is plain JSON from which `restore` (in the registry)
 * rebuilds it exactly, barriers and trailing peak included: that is what resumes after a restart.
 */
export interface Executor {
  readonly id: string;
  readonly type: ExecutorType;
  readonly config: ExecutorConfig;
  readonly status: ExecutorStatus;
  readonly closeType: CloseType | null;
  tick(ctx: ExecutorContext): void;
  onOrderUpdate(update: OrderUpdate, ctx: ExecutorContext): void;
  /** Ends early: cancels working orders and closes the position unless `keepPosition` (then POSITION_HOLD). */
  stop(ctx: ExecutorContext, keepPosition: boolean): void;
  /** Client order ids this executor has submitted and not seen final. */
  openOrderIds(): string[];
  report(ctx: { now: number; market: MarketView }): ExecutorReport;
  state(): Record<string, unknown>;
  /**
   * Optional: while the price stays strictly inside (low, high), `now` is before `until` and no order
   * update arrives, a tick would change nothing (no barrier, no order, no trailing peak). A runtime that
   * knows the price as a number may then skip the tick: a backtest walks four points per candle and most
   * of them are quiet. null (or no method): tick every step.
   */
  idleBand?(): IdleBand | null;
}

export interface IdleBand {
  low: number;
  high: number;
  until: number;
}

// ---------------------------------------------------------------------------------------------------
// Controllers

export type ControllerType = 'directional_trading' | 'market_making' | 'generic';

export type ExecutorAction =
  | { kind: 'create'; config: ExecutorConfig }
  | { kind: 'stop'; executorId: string; keepPosition: boolean };

/** What a controller needs fed: candles per interval with how many bars of history, the book. */
export interface DataNeeds {
  candles: Array<{ connector: string; tradingPair: string; interval: CandleInterval; bars: number }>;
  quotes: Array<{ connector: string; tradingPair: string }>;
  /**
   * Which of its executors the controller reads: 'active' when it reads only `activeExecutors` (reading
   * `executors` then throws), which lets a run that lists no executors (an optimization trial) drop the
   * ended ones once counted; 'all' (the default) when it also reads ended ones through `executors`.
   */
  executors?: 'all' | 'active';
}

export interface ControllerView {
  readonly now: number;
  readonly market: MarketView;
  /** This controller's executors (active and ended), as of now. */
  readonly executors: readonly ExecutorReport[];
  /**
   * The ones not yet terminated, in the same order: what a per-step check (caps, cooldowns) loops over,
   * so its cost stays with the working executors however many have ended before.
   */
  readonly activeExecutors: readonly ExecutorReport[];
  /** A fresh executor id, deterministic within a run. */
  newExecutorId(): string;
}

export interface ControllerInstance {
  /** Turns data into actions. Called once per controller step (each closed candle of its main interval in a backtest). */
  update(view: ControllerView): ExecutorAction[];
  /** Features worth showing or plotting (the latest signal, indicator values). */
  processedData?(): Record<string, unknown>;
}
