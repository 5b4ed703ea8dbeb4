import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import { ConnectorName, PositiveDecimalIn, TradingPair } from '../../schema.js';
import { defineScript, type ScriptAction, type ScriptInstance, type ScriptView } from '../script.js';
import type { OrderUpdate } from '../types.js';

const Seconds = z.number().int().positive().max(10 * 365 * 86_400);

export const TwapBuyerConfig = z
  .strictObject({
    connector_name: ConnectorName,
    trading_pair: TradingPair,
    total_amount_quote: PositiveDecimalIn.describe('Quote amount to buy in all (e.g. "1000" USDT), fees not included.'),
    duration: Seconds.describe('Seconds over which the amount is spread.'),
    interval: Seconds.describe('Seconds between slices: duration / interval slices (rounded down), the first at the start.'),
    max_price: PositiveDecimalIn.optional().describe('No slice is bought while the best ask is above this; missed slices are caught up once it is back under.'),
    min_order_quote: PositiveDecimalIn.default('5').describe('Smallest order, in quote: a smaller catch-up waits for the next slice.'),
  })
  .refine((c) => c.interval <= c.duration, { message: 'interval must not exceed duration', path: ['interval'] })
  .refine((c) => new Decimal(c.total_amount_quote).div(sliceCount(c)).gte(c.min_order_quote), {
    message: 'each slice (total_amount_quote / number of slices) must be at least min_order_quote: use fewer slices or a larger amount',
    path: ['total_amount_quote'],
  });
export type TwapBuyerConfig = z.infer<typeof TwapBuyerConfig>;

function sliceCount(c: { duration: number; interval: number }): number {
  return Math.max(1, Math.floor(c.duration / c.interval));
}

/** Base amounts are sent with at most this many decimals; the order path quantises them to the market's step. */
const AMOUNT_DP = 12;

interface Pending {
  /** Quote this order was sized for, counted as committed until the order is final. */
  reserved: string;
}

interface TwapState {
  startedAt: number | null;
  /** Quote notional of every fill of a final order (price × amount), fees excluded. */
  spent: string;
  fees: string;
  pending: Record<string, Pending>;
}

/**
 * Buys `total_amount_quote` of the base asset with market orders spread evenly over `duration`. Each step
 * it computes how much should have been bought by now (the slices due so far) and buys the difference
 * with what is already bought or in flight, so a slice missed (no price, above max_price, an order
 * rejected or only partly filled) is caught up at the next step rather than lost.
 */
export const twapBuyerV1 = defineScript({
  name: 'twap_buyer_v1',
  description:
    'Buys a quote amount of one pair in equal market-order slices over a duration (time-weighted average price), optionally never above a max price. Missed or short slices are caught up at the next step; it ends once the whole amount is bought.',
  config: TwapBuyerConfig,
  example: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '1000', duration: 3600, interval: 60 },
  data: (c) => ({ candles: [], quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }] }),
  stepSeconds: (c) => Math.min(c.interval, 60),
  create: (c, saved) => new TwapBuyer(c, saved as TwapState | undefined),
});

class TwapBuyer implements ScriptInstance {
  readonly #c: TwapBuyerConfig;
  readonly #slices: number;
  readonly #total: Decimal;
  readonly #min: Decimal;
  #s: TwapState;

  constructor(c: TwapBuyerConfig, saved?: TwapState) {
    this.#c = c;
    this.#slices = sliceCount(c);
    this.#total = new Decimal(c.total_amount_quote);
    this.#min = new Decimal(c.min_order_quote);
    this.#s = saved ? structuredClone(saved) : { startedAt: null, spent: '0', fees: '0', pending: {} };
  }

  step(view: ScriptView): ScriptAction[] {
    this.#s.startedAt ??= view.now;
    const quote = view.market.quote(this.#c.connector_name, this.#c.trading_pair);
    if (!quote || quote.ask.lte(0)) return [];
    if (this.#c.max_price !== undefined && quote.ask.gt(this.#c.max_price)) return [];
    const due = Math.min(this.#slices, Math.floor((view.now - this.#s.startedAt) / (this.#c.interval * 1000)) + 1);
    const target = this.#total.mul(due).div(this.#slices);
    const committed = Object.values(this.#s.pending).reduce((sum, p) => sum.plus(p.reserved), new Decimal(this.#s.spent));
    const want = target.minus(committed);
    if (want.lt(this.#min)) return [];
    const amount = want.div(quote.ask).toDecimalPlaces(AMOUNT_DP, Decimal.ROUND_DOWN);
    if (amount.lte(0)) return [];
    const clientOrderId = view.newOrderId();
    this.#s.pending[clientOrderId] = { reserved: want.toString() };
    return [{ kind: 'place', order: { clientOrderId, connector: this.#c.connector_name, tradingPair: this.#c.trading_pair, side: 'buy', type: 'market', amount } }];
  }

  onOrderUpdate(u: OrderUpdate): void {
    if (!(u.clientOrderId in this.#s.pending)) return;
    if (u.state !== 'filled' && u.state !== 'canceled' && u.state !== 'rejected') return;
    const notional = u.averagePrice ? u.filled.mul(u.averagePrice) : new Decimal(0);
    this.#s.spent = new Decimal(this.#s.spent).plus(notional).toString();
    this.#s.fees = new Decimal(this.#s.fees).plus(u.fees).toString();
    delete this.#s.pending[u.clientOrderId];
  }

  done(): boolean {
    return Object.keys(this.#s.pending).length === 0 && this.#total.minus(this.#s.spent).lt(this.#min);
  }

  state(): Record<string, unknown> {
    return structuredClone(this.#s) as unknown as Record<string, unknown>;
  }
}
