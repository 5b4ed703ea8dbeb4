import { Decimal } from '../decimal.js';
import { and, eq, inArray } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Database, Db } from '../db/client.js';
import { orders, paperBalances } from '../db/schema/index.js';
import { statement } from '../db/sql-runner.js';
import type { Balance } from '../exchange/types.js';

export const DEFAULT_PAPER_BALANCES: Readonly<Record<string, string>> = { USDT: '10000', BTC: '1' };

/** A stored balance row, its numerics as text so that no digit is lost on the way. */
interface BalanceRow {
  asset: string;
  total: string;
  locked: string;
}

/** An attached connector with what an account's balance read needs of it, paper balances included. */
export interface AttachedConnector {
  connectorName: string;
  /** The sealed credentials of a live connector (null for paper and sim, or a live one without them). */
  secretBox: string | null;
  /** The paper balances stored for it, by asset; empty for a live connector. */
  balances: Balance[];
}

const BALANCES = statement(
  'td_paper_balances',
  `select asset, total::text as total, locked::text as locked from paper_balances where account_name = $1 and connector_name = $2 order by asset`,
);

/**
 * The account's attached connectors (all, or the one named in $2) with their paper balances, in one
 * read: the balances route is polled, and this is all it reads.
 */
const ATTACHED_WITH_BALANCES = statement(
  'td_attached_with_balances',
  `select c.connector_name as "connectorName", c.secret_box as "secretBox",
     (select coalesce(json_agg(json_build_object('asset', b.asset, 'total', b.total::text, 'locked', b.locked::text) order by b.asset), '[]'::json)
        from paper_balances b where b.account_name = c.account_name and b.connector_name = c.connector_name) as balances
   from account_connectors c
   where c.account_name = $1 and ($2::text is null or c.connector_name = $2)
   order by c.connector_name`,
);

/** A stored row as the balance callers see: exact decimals, available = total - locked. */
export function balanceOf(r: BalanceRow): Balance {
  const total = new Decimal(r.total);
  const locked = new Decimal(r.locked);
  return { asset: r.asset, total: total.toString(), locked: locked.toString(), available: total.minus(locked).toString() };
}

/** Paper and sim balances, exact decimals in Postgres `numeric`. */
export class PaperLedger {
  readonly #sql: Database['sql'];

  constructor(database: Pick<Database, 'sql'>) {
    this.#sql = database.sql;
  }

  async balances(accountName: string, connectorName: string): Promise<Balance[]> {
    const rows = await this.#sql.query<BalanceRow>(BALANCES, [accountName, connectorName]);
    return rows.map(balanceOf);
  }

  /** The connectors attached to an account (or only `connectorName`), each with its paper balances. */
  async attached(accountName: string, connectorName?: string): Promise<AttachedConnector[]> {
    const rows = await this.#sql.query<{ connectorName: string; secretBox: string | null; balances: BalanceRow[] }>(ATTACHED_WITH_BALANCES, [accountName, connectorName ?? null]);
    return rows.map((r) => ({ connectorName: r.connectorName, secretBox: r.secretBox, balances: r.balances.map(balanceOf) }));
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
