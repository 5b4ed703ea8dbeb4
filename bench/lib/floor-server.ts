/**
 * The floor: the least a server can do for the same durable work as one paper market order, so that
 * tradedesk's order path has a baseline measured on the same Postgres in the same run.
 *
 * express 5 + a node-postgres Pool of 10 (tradedesk's main pool size), Basic auth by a constant-time
 * compare with a precomputed header (no hashing), express.json(), and per POST /trading/orders seven
 * statements in one transaction on its own tables in a private database:
 *
 *   BEGIN
 *   INSERT INTO orders ... ON CONFLICT (account_name, client_order_id) DO NOTHING RETURNING *
 *   UPDATE paper_balances SET total = total - $spend WHERE ... AND total - locked >= $spend RETURNING total
 *   UPDATE paper_balances SET total = total + $receive WHERE ...
 *   INSERT INTO fills ... RETURNING *
 *   INSERT INTO audit_events ...
 *   COMMIT
 *
 * A replay (the INSERT stored nothing: the client_order_id exists) rolls back and answers the stored
 * order and its fills (one SELECT); a spend the balance cannot cover rolls back with a 422. The price is
 * a constant (the floor has no order book); fees are 0.1% of the notional in the quote asset, so the
 * balance changes are exactly what the fills imply and the same checks as tradedesk's apply. The two
 * balance rows are updated in asset order whatever the side, so concurrent buys and sells never
 * deadlock. The tables carry the same indexes as tradedesk's (index upkeep is part of the durable
 * work). The answer is 201 with tradedesk's body shape ({order, fills, replayed, book_source}) so the
 * load generator parses both the same way.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { Decimal } from 'decimal.js';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { AUTH, createPgDatabase, log } from './harness.js';

/** The floor's fixed fill price, a typical sim BTC-USDT price. */
export const FLOOR_PRICE = '58306.98';
const FEE_RATE = '0.001';
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });

const SCHEMA = `
create table orders (
  id text primary key,
  account_name text not null,
  client_order_id text not null,
  connector_name text not null,
  trading_pair text not null,
  side text not null,
  order_type text not null,
  amount numeric(38,18) not null,
  price numeric(38,18),
  status text not null,
  filled_amount numeric(38,18) not null,
  average_fill_price numeric(38,18),
  fee_paid numeric(38,18) not null,
  fee_asset text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (account_name, client_order_id)
);
create table fills (
  fill_id text primary key,
  order_id text not null references orders(id),
  account_name text not null,
  connector_name text not null,
  trading_pair text not null,
  side text not null,
  price numeric(38,18) not null,
  amount numeric(38,18) not null,
  fee numeric(38,18) not null,
  fee_asset text not null,
  is_maker boolean not null,
  time timestamptz not null default now()
);
create index fills_order_id on fills (order_id);
create index fills_account_time on fills (account_name, time);
create index orders_status on orders (status);
create index orders_account_created on orders (account_name, created_at);
create index orders_client_order_id on orders (client_order_id);
create table paper_balances (
  account_name text not null,
  connector_name text not null,
  asset text not null,
  total numeric(38,18) not null,
  locked numeric(38,18) not null default 0,
  primary key (account_name, connector_name, asset)
);
create table audit_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  principal text not null,
  channel text not null,
  command text not null,
  account_name text,
  status text not null,
  input jsonb not null
);
create index audit_events_at on audit_events (at);
create index audit_events_command on audit_events (command, at);
create index audit_events_account on audit_events (account_name, at);`;

const INSERT_ORDER = `insert into orders (id, account_name, client_order_id, connector_name, trading_pair, side, order_type, amount, status, filled_amount, average_fill_price, fee_paid, fee_asset)
  values ($1, $2, $3, $4, $5, $6, $7, $8, 'filled', $8, $9, $10, $11)
  on conflict (account_name, client_order_id) do nothing returning *`;
const SPEND = `update paper_balances set total = total - $4 where account_name = $1 and connector_name = $2 and asset = $3 and total - locked >= $4 returning total`;
const RECEIVE = `update paper_balances set total = total + $4 where account_name = $1 and connector_name = $2 and asset = $3`;
const INSERT_FILL = `insert into fills (fill_id, order_id, account_name, connector_name, trading_pair, side, price, amount, fee, fee_asset, is_maker)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false) returning *`;
const INSERT_AUDIT = `insert into audit_events (principal, channel, command, account_name, status, input) values ($1, 'rest', 'trading_place_order', $2, 'ok', $3)`;
const REPLAY = `select to_jsonb(o) as o, (select coalesce(jsonb_agg(to_jsonb(f) order by f.time, f.fill_id), '[]'::jsonb) from fills f where f.order_id = o.id) as fills
  from orders o where o.account_name = $1 and o.client_order_id = $2`;

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown) => new Date(v as string | Date).toISOString();

/** The order and fill views in tradedesk's wire shape (src/core/trading/order-view.ts). */
const orderView = (o: Row) => ({
  order_id: o.id,
  client_order_id: o.client_order_id,
  account_name: o.account_name,
  connector_name: o.connector_name,
  trading_pair: o.trading_pair,
  side: o.side,
  order_type: o.order_type,
  amount: num(o.amount),
  price: num(o.price),
  position_action: null,
  leverage: null,
  status: o.status,
  filled_amount: num(o.filled_amount),
  average_fill_price: num(o.average_fill_price),
  fee_paid: num(o.fee_paid),
  fee_asset: o.fee_asset,
  error_message: null,
  created_at: iso(o.created_at),
  updated_at: iso(o.updated_at),
});
const fillView = (f: Row) => {
  const time = new Date(f.time as string | Date);
  return {
    fill_id: f.fill_id,
    order_id: f.order_id,
    account_name: f.account_name,
    connector_name: f.connector_name,
    trading_pair: f.trading_pair,
    side: f.side,
    price: num(f.price),
    amount: num(f.amount),
    fee: num(f.fee),
    fee_asset: f.fee_asset,
    is_maker: f.is_maker,
    realized_pnl: null,
    time: time.toISOString(),
    timestamp: time.getTime(),
  };
};

export interface FloorServer {
  url: string;
  /** The private database's name and a drizzle handle on it, for the checks (never used by the handler). */
  database: string;
  db: NodePgDatabase;
  close(): Promise<void>;
}

/**
 * Creates the floor's private database on the DATABASE_URL server, its tables, and `accounts` funded
 * with `balances` on `sim`; starts the floor on 127.0.0.1 port 0 in this process.
 */
export async function startFloorServer(baseUrl: string, accounts: string[], balances: Record<string, string>, cleanups: Array<() => Promise<void>>): Promise<FloorServer> {
  const [{ default: express }, { default: pg }, { drizzle }] = await Promise.all([import('express'), import('pg'), import('drizzle-orm/node-postgres')]);
  const made = await createPgDatabase(baseUrl);
  cleanups.push(made.drop);
  const pool = new pg.Pool({ connectionString: made.url, max: 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000, keepAlive: true });
  pool.on('error', (err) => log(`floor: idle client error ${err.message}\n`));
  await pool.query(SCHEMA);
  for (const account of accounts) {
    for (const [asset, total] of Object.entries(balances)) await pool.query('insert into paper_balances (account_name, connector_name, asset, total) values ($1, $2, $3, $4)', [account, 'sim', asset, total]);
  }

  const expected = Buffer.from(AUTH);
  const authorized = (header: string | undefined) => {
    if (!header) return false;
    const got = Buffer.from(header);
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((req, res, next) => {
    if (authorized(req.headers.authorization)) return next();
    res.status(401).set('www-authenticate', 'Basic realm="floor"').json({ error: { code: 'UNAUTHENTICATED' } });
  });
  app.use(express.json({ limit: '256kb' }));
  app.post('/trading/orders', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const { account_name: account, connector_name: connector, trading_pair: pair, side, order_type: type, client_order_id: cid } = b;
    const [baseAsset, quoteAsset] = typeof pair === 'string' ? pair.split('-') : [];
    if (typeof account !== 'string' || typeof connector !== 'string' || !baseAsset || !quoteAsset || (side !== 'buy' && side !== 'sell') || type !== 'market' || typeof cid !== 'string' || !/^\d+(\.\d+)?$/.test(String(b.amount))) {
      res.status(400).json({ error: { code: 'VALIDATION_FAILED' } });
      return;
    }
    const amount = new D(String(b.amount));
    const notional = amount.times(FLOOR_PRICE).toDecimalPlaces(18);
    const fee = notional.times(FEE_RATE).toDecimalPlaces(18);
    const spendQuote = side === 'buy';
    const [spendAsset, spend, receiveAsset, receive] = spendQuote ? [quoteAsset, notional.plus(fee), baseAsset, amount] : [baseAsset, amount, quoteAsset, notional.minus(fee)];
    const orderId = `ord_${randomBytes(10).toString('hex')}`;
    const client = await pool.connect();
    let release: Error | undefined;
    try {
      await client.query('begin');
      const ins = await client.query(INSERT_ORDER, [orderId, account, cid, connector, pair, side, type, amount.toFixed(), FLOOR_PRICE, fee.toFixed(), quoteAsset]);
      if (ins.rowCount === 0) {
        await client.query('rollback');
        const stored = await client.query<{ o: Row; fills: Row[] }>(REPLAY, [account, cid]);
        const r = stored.rows[0]!;
        res.status(201).json({ order: orderView(r.o), fills: r.fills.map(fillView), replayed: true, book_source: null });
        return;
      }
      // Both rows in asset order whatever the side: concurrent buys and sells then lock them in the same order.
      const updates: Array<() => Promise<boolean>> = [
        async () => (await client.query(SPEND, [account, connector, spendAsset, spend.toFixed()])).rowCount === 1,
        async () => (await client.query(RECEIVE, [account, connector, receiveAsset, receive.toFixed()])).rowCount === 1,
      ];
      if (receiveAsset < spendAsset) updates.reverse();
      for (const u of updates) {
        if (!(await u())) {
          await client.query('rollback');
          res.status(422).json({ error: { code: 'UPSTREAM_REJECTED', message: `insufficient ${spendAsset}` } });
          return;
        }
      }
      const fill = await client.query(INSERT_FILL, [`${orderId}-${randomBytes(4).toString('hex')}`, orderId, account, connector, pair, side, FLOOR_PRICE, amount.toFixed(), fee.toFixed(), quoteAsset]);
      await client.query(INSERT_AUDIT, ['bench', account, b]);
      await client.query('commit');
      res.status(201).json({ order: orderView(ins.rows[0]), fills: fill.rows.map(fillView), replayed: false, book_source: 'floor' });
    } catch (err) {
      release = err as Error;
      await client.query('rollback').catch(() => undefined);
      res.status(500).json({ error: { code: 'INTERNAL', message: (err as Error).message } });
    } finally {
      client.release(release);
    }
  });
  app.use((err: Error & { status?: number }, _req: unknown, res: import('express').Response, _next: unknown) => {
    res.status(err.status && err.status < 500 ? err.status : 500).json({ error: { code: err.status === 400 ? 'VALIDATION_FAILED' : 'INTERNAL', message: err.message } });
  });

  const http: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  http.keepAliveTimeout = 5000; // tradedesk's
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await pool.end();
  };
  cleanups.push(close);
  const addr = http.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  log(`floor: express + pg up on database ${made.name}\n`);
  return { url, database: made.name, db: drizzle(pool), close };
}
