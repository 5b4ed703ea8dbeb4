import { Decimal } from '../../decimal.js';

export interface Level {
  price: Decimal;
  amount: Decimal;
}

export interface Execution {
  price: Decimal;
  amount: Decimal;
}

export interface Walk {
  executions: Execution[];
  filled: Decimal;
  /** Sum of price × amount over the executions, in the quote asset. */
  notional: Decimal;
}

/**
 * Takes liquidity from one side of a book: `levels` best first (asks ascending for a buy, bids
 * descending for a sell), up to `amount`, never past `limit` when given. Each execution is at the
 * level's own price, so a fill is never better than the book.
 */
export function walkBook(levels: Iterable<Level>, amount: Decimal, side: 'buy' | 'sell', limit?: Decimal): Walk {
  const executions: Execution[] = [];
  let remaining = amount;
  let notional = new Decimal(0);
  for (const level of levels) {
    if (remaining.lte(0)) break;
    if (limit && (side === 'buy' ? level.price.gt(limit) : level.price.lt(limit))) break;
    if (level.amount.lte(0)) continue;
    const take = Decimal.min(remaining, level.amount);
    executions.push({ price: level.price, amount: take });
    notional = notional.plus(take.times(level.price));
    remaining = remaining.minus(take);
  }
  return { executions, filled: amount.minus(remaining), notional };
}

/** Whether an order at `price` would take liquidity immediately. */
export function crosses(side: 'buy' | 'sell', price: Decimal, bestBid: Decimal | undefined, bestAsk: Decimal | undefined): boolean {
  return side === 'buy' ? bestAsk !== undefined && price.gte(bestAsk) : bestBid !== undefined && price.lte(bestBid);
}

/** A book level as a connector reports it. */
export interface RawLevel {
  price: number;
  amount: number;
}

const level = (l: RawLevel): Level => ({ price: new Decimal(String(l.price)), amount: new Decimal(String(l.amount)) });

export function toLevels(raw: readonly RawLevel[]): Level[] {
  return raw.map(level);
}

/**
 * The levels as exact decimals, converted only as far as a walk reads them: an order that fills on the
 * first level of a 100-level book builds two Decimals, not two hundred.
 */
export function* lazyLevels(raw: readonly RawLevel[]): Generator<Level> {
  for (const l of raw) yield level(l);
}

/** The best price of one side, or undefined when that side is empty. */
export function bestOf(raw: readonly RawLevel[]): Decimal | undefined {
  return raw[0] ? new Decimal(String(raw[0].price)) : undefined;
}
