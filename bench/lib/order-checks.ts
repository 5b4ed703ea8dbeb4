/**
 * After a measured order run: what the database holds against what the clients were acknowledged.
 * Written against the table and column names tradedesk uses (orders, fills, paper_balances), which the
 * floor's schema repeats, so the same checks run on both.
 */
import { sql, type SQL } from 'drizzle-orm';
import { Decimal } from '../../src/core/decimal.js';

export type Row = Record<string, unknown>;
/** Runs one query on the database under test and returns its rows. */
export type Query = (q: SQL) => Promise<Row[]>;

/** Acknowledged new orders: [client_order_id, order_id, number of fills in the response, status]. */
export type Acked = Array<[string, string, number, string]>;

export interface Check {
  dbOrders: number;
  dbFills: number;
  /** Acknowledged but missing, not filled, another order id, or fewer/more fills than the response showed. */
  lost: number;
  lostSamples: string[];
  /** client_order_id stored more than once (the unique index forbids it), and fill ids stored twice. */
  duplicatedOrders: number;
  duplicatedFills: number;
  /** Stored orders that no client saw acknowledged (e.g. a request that failed after the insert). */
  unacked: number;
  /** Orders whose fills do not add up to their amount and filled_amount. */
  fillMismatch: number;
  fillsPerOrder: Record<string, number>;
  /** Per account and asset, the paper balance change during the run equals what the fills imply, to the last of 18 decimals. */
  balances: { account: string; asset: string; expected: string; actual: string; ok: boolean }[];
}

/** The stored sim paper balances of `accounts`, keyed `<account>/<asset>`. */
export async function simBalances(query: Query, accounts: string[]): Promise<Map<string, string>> {
  const r = await query(sql`select account_name, asset, total::text as total from paper_balances where connector_name = 'sim' and account_name in ${accounts}`);
  return new Map(r.map((x) => [`${String(x.account_name)}/${String(x.asset)}`, String(x.total)]));
}

export async function checkRun(query: Query, prefix: string, acked: Acked, accounts: string[], before: Map<string, string>, assets: { base: string; quote: string }): Promise<Check> {
  const like = `${prefix}%`;
  const perOrder = await query(
    sql`select o.client_order_id as cid, o.id as id, o.status as status, o.amount::text as amount, o.filled_amount::text as filled,
               count(f.fill_id)::int as nfills, coalesce(sum(f.amount), 0)::text as famount
        from orders o left join fills f on f.order_id = o.id
        where o.client_order_id like ${like} group by o.id`,
  );
  const [{ n: dbOrders } = { n: 0 }] = await query(sql`select count(*)::int as n from orders where client_order_id like ${like}`);
  const [{ n: dbFills } = { n: 0 }] = await query(sql`select count(*)::int as n from fills f join orders o on o.id = f.order_id where o.client_order_id like ${like}`);
  const dupOrders = await query(sql`select client_order_id, count(*)::int as n from orders where client_order_id like ${like} group by 1 having count(*) > 1`);
  const dupFills = await query(sql`select fill_id, count(*)::int as n from fills group by 1 having count(*) > 1`);

  const byCid = new Map<string, Row[]>();
  for (const r of perOrder) byCid.set(String(r.cid), [...(byCid.get(String(r.cid)) ?? []), r]);
  let lost = 0;
  const lostSamples: string[] = [];
  const seen = new Set<string>();
  for (const [cid, orderId, nFills, status] of acked) {
    seen.add(cid);
    const r = byCid.get(cid)?.[0];
    const why = !r
      ? 'not in the database'
      : r.id !== orderId
        ? `stored as ${String(r.id)}, acknowledged as ${orderId}`
        : r.status !== 'filled' || status !== 'filled'
          ? `status ${String(r.status)} (response said ${status})`
          : Number(r.nfills) !== nFills
            ? `${String(r.nfills)} fills stored, ${nFills} in the response`
            : null;
    if (why) {
      lost++;
      if (lostSamples.length < 5) lostSamples.push(`${cid}: ${why}`);
    }
  }
  let fillMismatch = 0;
  const fillsPerOrder: Record<string, number> = {};
  for (const r of perOrder) {
    const nf = String(r.nfills);
    fillsPerOrder[nf] = (fillsPerOrder[nf] ?? 0) + 1;
    if (r.status === 'filled' && !(new Decimal(String(r.famount)).eq(new Decimal(String(r.amount))) && new Decimal(String(r.filled)).eq(new Decimal(String(r.amount))))) fillMismatch++;
  }

  // Balances: what the run's fills imply (quote notional rounded to 18 places as the engine does, fees
  // as stored, in the quote asset), against the change of the stored paper balances over the run.
  const fillRows = await query(
    sql`select o.account_name as account, f.side as side, f.price::text as price, f.amount::text as amount, f.fee::text as fee
        from fills f join orders o on o.id = f.order_id where o.client_order_id like ${like}`,
  );
  const delta = new Map<string, Decimal>();
  const add = (key: string, v: Decimal) => delta.set(key, (delta.get(key) ?? new Decimal(0)).plus(v));
  for (const f of fillRows) {
    const amount = new Decimal(String(f.amount));
    const notional = amount.times(new Decimal(String(f.price))).toDecimalPlaces(18, Decimal.ROUND_HALF_EVEN);
    const fee = new Decimal(String(f.fee));
    const sign = f.side === 'buy' ? 1 : -1;
    add(`${String(f.account)}/${assets.base}`, amount.times(sign));
    add(`${String(f.account)}/${assets.quote}`, notional.times(-sign).minus(fee));
  }
  const after = await simBalances(query, accounts);
  const balances = accounts.flatMap((account) =>
    [assets.base, assets.quote].map((asset) => {
      const key = `${account}/${asset}`;
      const expected = new Decimal(before.get(key) ?? '0').plus(delta.get(key) ?? 0);
      const actual = new Decimal(after.get(key) ?? '0');
      return { account, asset, expected: expected.toFixed(), actual: actual.toFixed(), ok: expected.eq(actual) };
    }),
  );

  return {
    dbOrders: Number(dbOrders),
    dbFills: Number(dbFills),
    lost,
    lostSamples,
    duplicatedOrders: dupOrders.length,
    duplicatedFills: dupFills.length,
    unacked: perOrder.filter((r) => !seen.has(String(r.cid))).length,
    fillMismatch,
    fillsPerOrder,
    balances,
  };
}
