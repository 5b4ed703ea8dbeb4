import { Decimal } from '../decimal.js';
import { and, eq, inArray } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Db } from '../db/client.js';
import { orders, paperBalances } from '../db/schema/index.js';
import type { Balance } from '../exchange/types.js';

export const DEFAULT_PAPER_BALANCES: Readonly<Record<string, string>> = { USDT: '10000', BTC: '1' };

/** Paper and sim balances, exact decimals in Postgres `numeric`. */
export class PaperLedger {
  constructor(private readonly db: Db) {}

  async balances(accountName: string, connectorName: string): Promise<Balance[]> {
    const rows = await this.db
      .select()
      .from(paperBalances)
      .where(and(eq(paperBalances.accountName, accountName), eq(paperBalances.connectorName, connectorName)))
      .orderBy(paperBalances.asset);
    return rows.map((r) => {
      const total = new Decimal(r.total);
      const locked = new Decimal(r.locked);
      return { asset: r.asset, total: total.toString(), locked: locked.toString(), available: total.minus(locked).toString() };
    });
  }

  /** Replaces the balances of one paper connector (used when it is attached and by the admin command). */
  async set(db: Db, accountName: string, connectorName: string, balances: Record<string, string>): Promise<void> {
    const open = await db
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.accountName, accountName), eq(orders.connectorName, connectorName), inArray(orders.status, ['open', 'partially_filled', 'pending_submit'])))
      .limit(1);
    if (open.length) {
      throw new AppError('CONFLICT', `${accountName} has open orders on ${connectorName}; their reserved funds would be lost.`, {
        hint: 'Cancel the open orders first, then set the balances.',
      });
    }
    await db.delete(paperBalances).where(and(eq(paperBalances.accountName, accountName), eq(paperBalances.connectorName, connectorName)));
    const rows = Object.entries(balances)
      .filter(([, v]) => !new Decimal(v).isZero())
      .map(([asset, total]) => ({ accountName, connectorName, asset, total: new Decimal(total).toFixed(), locked: '0' }));
    if (rows.length) await db.insert(paperBalances).values(rows);
  }
}
