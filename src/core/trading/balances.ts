import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Db } from '../db/client.js';
import { Decimal } from '../decimal.js';
import { paperBalances } from '../db/schema/index.js';

export interface BalanceRow {
  total: Decimal;
  locked: Decimal;
}

/** Paper balance reads and writes inside a transaction; reads lock the row until it commits. */
export class PaperBook {
  constructor(
    private readonly tx: Db,
    private readonly account: string,
    private readonly connector: string,
  ) {}

  async get(asset: string): Promise<BalanceRow> {
    const [row] = await this.tx
      .select()
      .from(paperBalances)
      .where(and(eq(paperBalances.accountName, this.account), eq(paperBalances.connectorName, this.connector), eq(paperBalances.asset, asset)))
      .for('update');
    return row ? { total: new Decimal(row.total), locked: new Decimal(row.locked) } : { total: new Decimal(0), locked: new Decimal(0) };
  }

  async available(asset: string): Promise<Decimal> {
    const b = await this.get(asset);
    return b.total.minus(b.locked);
  }

  /** Adds to total and locked. A result below zero is a bug in the engine, never silently stored. */
  async adjust(asset: string, dTotal: Decimal, dLocked: Decimal = new Decimal(0)): Promise<void> {
    if (dTotal.isZero() && dLocked.isZero()) return;
    const cur = await this.get(asset);
    const total = cur.total.plus(dTotal);
    const locked = cur.locked.plus(dLocked);
    if (total.isNegative() || locked.isNegative() || locked.gt(total)) {
      throw new AppError('INTERNAL', `Paper balance of ${asset} would become inconsistent.`, {
        details: { asset, total: total.toString(), locked: locked.toString() },
      });
    }
    await this.tx
      .insert(paperBalances)
      .values({ accountName: this.account, connectorName: this.connector, asset, total: total.toFixed(), locked: locked.toFixed() })
      .onConflictDoUpdate({
        target: [paperBalances.accountName, paperBalances.connectorName, paperBalances.asset],
        set: { total: total.toFixed(), locked: locked.toFixed(), updatedAt: sql`now()` },
      });
  }
}
