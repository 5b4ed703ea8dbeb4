import { Decimal } from '../decimal.js';

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
export function walkBook(levels: readonly Level[], amount: Decimal, side: 'buy' | 'sell', limit?: Decimal): Walk {
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

export function toLevels(raw: ReadonlyArray<{ price: number; amount: number }>): Level[] {
  return raw.map((l) => ({ price: new Decimal(String(l.price)), amount: new Decimal(String(l.amount)) }));
}
