/**
 * Sustained order placement through REST: C concurrent clients each place small market orders with a
 * unique client_order_id for D seconds; then the database is checked for lost and duplicated orders
 * and fills, paper balances are reconciled with the fills, and retries with the same client_order_id
 * must come back `replayed: true` without adding anything. The baseline is the same concurrency of a
 * trivial authenticated read (GET /accounts) on the same server: ratio = orders/s ÷ reads/s.
 *
 *   eval "$(bash scripts/services.sh | sed 's/^/export /')" && npm run bench:throughput   # Postgres and PGlite
 *   npx tsx bench/order-throughput.bench.ts            # PGlite only (Postgres skipped, said so)
 *   BENCH_DURATION=30 BENCH_CONCURRENCY=16 npx tsx bench/order-throughput.bench.ts
 *
 * Clients run in a forked child process (plain node:http, one keep-alive connection per client), so
 * they never share an event loop with the server. See bench/README.md for how to read the figures.
 */
import { Agent, request } from 'node:http';
import { sql, type SQL } from 'drizzle-orm';
import { AUTH, ClientProcess, cores, cpuCell, cpuMeter, cpuWarnings, drivers, fmt, fundMasterAccount, intEnv, log, orderBody, printTable, ratio, round, roundSummary, runMain, serveClient, sleep, startBenchServer, summarize, type BenchServer, type ClientReply, type CpuSplit, type Driver, type Summary } from './lib/harness.js';

const SETTINGS = {
  concurrency: Math.round(intEnv('BENCH_CONCURRENCY', 8)),
  duration: intEnv('BENCH_DURATION', 15),
  warmup: intEnv('BENCH_WARMUP', 2, 0),
  /** Every n-th order (counted over all clients) is sent again with the same client_order_id once acknowledged (5%). */
  retryEvery: Math.round(intEnv('BENCH_RETRY_EVERY', 20)),
  /** Every n-th order (counted over all clients) is sent twice at once on two connections (a racing duplicate, 2%). */
  raceEvery: Math.round(intEnv('BENCH_RACE_EVERY', 50)),
};

// ---------------------------------------------------------------------------------------------------
// Client process

interface LoadRequest {
  id: number;
  url: string;
  mode: 'orders' | 'reads';
  concurrency: number;
  durationS: number;
  /** client_order_id prefix; ids are `<prefix><client>-<n>`. */
  prefix: string;
  retryEvery: number;
  raceEvery: number;
}

interface LoadReply extends ClientReply {
  /** Completed new orders (201, replayed false) or reads (200), and their latencies in ms. */
  ok: number;
  latency: Summary;
  /** From the first request to the last response (the clients stop starting requests after durationS and wait for the ones in flight). */
  elapsedMs: number;
  requests: number;
  /** Acknowledged new orders: [client_order_id, order_id, number of fills in the response, status]. */
  acked: Array<[string, string, number, string]>;
  failures: Record<string, number>;
  failureSamples: string[];
  retries: { sent: number; replayed: number; sameOrder: number; notReplayed: number; failed: number };
  races: { pairs: number; oneNewOneReplayed: number; sameOrder: number; bothNew: number; failed: number };
}

interface Res {
  status: number;
  text: string;
}

function send(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, body = ''): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: AUTH };
    if (method === 'POST') Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request({ host: base.hostname, port: base.port, path, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface PlaceBody {
  order: { order_id: string; client_order_id: string; status: string };
  fills: unknown[];
  replayed: boolean;
}

async function loadRun(msg: LoadRequest): Promise<Omit<LoadReply, 'id' | 'cpuCores'>> {
  const base = new URL(msg.url);
  // One keep-alive connection per client, and one more each for the racing duplicates.
  const agents = Array.from({ length: msg.concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const raceAgents = Array.from({ length: msg.concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  // Open every connection before the clock starts.
  await Promise.all([...agents, ...raceAgents].map((a) => send(a, base, 'GET', '/health')));

  const lat: number[] = [];
  const acked: LoadReply['acked'] = [];
  const failures: Record<string, number> = {};
  const failureSamples: string[] = [];
  const retries = { sent: 0, replayed: 0, sameOrder: 0, notReplayed: 0, failed: 0 };
  const races = { pairs: 0, oneNewOneReplayed: 0, sameOrder: 0, bothNew: 0, failed: 0 };
  let requests = 0;
  let ok = 0;
  const fail = (what: string, r: Res | Error) => {
    const key = r instanceof Error ? `${what}: ${r.message}` : `${what}: ${r.status}`;
    failures[key] = (failures[key] ?? 0) + 1;
    if (failureSamples.length < 5) failureSamples.push(r instanceof Error ? `${what}: ${r.message}` : `${what}: ${r.status} ${r.text.slice(0, 200)}`);
  };
  const parse = (r: Res): PlaceBody | null => {
    if (r.status !== 201) return null;
    try {
      return JSON.parse(r.text) as PlaceBody;
    } catch {
      return null;
    }
  };

  const t0 = performance.now();
  const deadline = t0 + msg.durationS * 1000;
  let last = t0;
  /** Orders started by all clients together: picks the retried and the raced ones evenly across clients. */
  let started = 0;
  const worker = async (c: number) => {
    const agent = agents[c]!;
    let n = 0;
    while (performance.now() < deadline) {
      const i = n++;
      if (msg.mode === 'reads') {
        const s = performance.now();
        requests++;
        const r = await send(agent, base, 'GET', '/accounts').catch((e: Error) => e);
        last = performance.now();
        if (!(r instanceof Error) && r.status === 200) {
          ok++;
          lat.push(last - s);
        } else fail('read', r);
        continue;
      }
      const cid = `${msg.prefix}${c}-${i}`;
      const g = started++;
      // Per client, buys and sells alternate in pairs so that every client's position stays near zero.
      const body = JSON.stringify(orderBody(i % 2 === 0 ? 'buy' : 'sell', cid));
      const s = performance.now();
      if (msg.raceEvery > 0 && g % msg.raceEvery === msg.raceEvery - 1) {
        // The same order twice at once, on two connections: exactly one must be new, both the same order.
        requests += 2;
        races.pairs++;
        const [a, b] = await Promise.all([send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e), send(raceAgents[c]!, base, 'POST', '/trading/orders', body).catch((e: Error) => e)]);
        last = performance.now();
        const pa = a instanceof Error ? null : parse(a);
        const pb = b instanceof Error ? null : parse(b);
        if (!pa || !pb) {
          races.failed++;
          if (!pa) fail('race', a);
          if (!pb) fail('race', b);
          const first = pa ?? pb;
          if (first && !first.replayed) {
            ok++;
            acked.push([cid, first.order.order_id, first.fills.length, first.order.status]);
          }
          continue;
        }
        if (pa.order.order_id === pb.order.order_id) races.sameOrder++;
        if (pa.replayed !== pb.replayed) races.oneNewOneReplayed++;
        if (!pa.replayed && !pb.replayed) races.bothNew++;
        const fresh = pa.replayed ? pb : pa;
        if (!fresh.replayed) {
          ok++;
          lat.push(last - s);
          acked.push([cid, fresh.order.order_id, fresh.fills.length, fresh.order.status]);
        }
        continue;
      }
      requests++;
      const r = await send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e);
      last = performance.now();
      const p = r instanceof Error ? null : parse(r);
      if (!p || p.replayed) {
        fail(p?.replayed ? 'order replayed on first send' : 'order', r);
        continue;
      }
      ok++;
      lat.push(last - s);
      acked.push([cid, p.order.order_id, p.fills.length, p.order.status]);
      if (msg.retryEvery > 0 && g % msg.retryEvery === 0) {
        // A client that did not see the answer retries with the same client_order_id.
        requests++;
        retries.sent++;
        const rr = await send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e);
        last = performance.now();
        const pr = rr instanceof Error ? null : parse(rr);
        if (!pr) {
          retries.failed++;
          fail('retry', rr);
          continue;
        }
        if (pr.replayed) retries.replayed++;
        else retries.notReplayed++;
        if (pr.order.order_id === p.order.order_id) retries.sameOrder++;
      }
    }
  };
  await Promise.all(Array.from({ length: msg.concurrency }, (_, c) => worker(c)));
  for (const a of [...agents, ...raceAgents]) a.destroy();
  return { ok, latency: summarize(lat), elapsedMs: last - t0, requests, acked: msg.mode === 'orders' ? acked : [], failures, failureSamples, retries, races };
}

function clientMain(): void {
  serveClient<LoadRequest>(async (msg) => ({ ...(await loadRun(msg)) }));
}

// ---------------------------------------------------------------------------------------------------
// Checks against the database

interface Check {
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
  /** Paper balance changes during the run equal what the fills imply, to the last of 18 decimals. */
  balances: { asset: string; expected: string; actual: string; ok: boolean }[];
}

type Row = Record<string, unknown>;

async function rows(b: BenchServer, q: SQL): Promise<Row[]> {
  const res = (await b.server.services.db.execute(q)) as unknown as { rows: Row[] };
  return res.rows;
}

async function simBalances(b: BenchServer): Promise<Map<string, string>> {
  const r = await rows(b, sql`select asset, total::text as total from paper_balances where account_name = 'master_account' and connector_name = 'sim'`);
  return new Map(r.map((x) => [String(x.asset), String(x.total)]));
}

async function checkRun(b: BenchServer, prefix: string, acked: LoadReply['acked'], before: Map<string, string>): Promise<Check> {
  const { Decimal } = await import('../src/core/decimal.js');
  const like = `${prefix}%`;
  const perOrder = await rows(
    b,
    sql`select o.client_order_id as cid, o.id as id, o.status as status, o.amount::text as amount, o.filled_amount::text as filled,
               count(f.id)::int as nfills, coalesce(sum(f.amount), 0)::text as famount
        from orders o left join fills f on f.order_id = o.id
        where o.client_order_id like ${like} group by o.id`,
  );
  const [{ n: dbOrders } = { n: 0 }] = await rows(b, sql`select count(*)::int as n from orders where client_order_id like ${like}`);
  const [{ n: dbFills } = { n: 0 }] = await rows(b, sql`select count(*)::int as n from fills f join orders o on o.id = f.order_id where o.client_order_id like ${like}`);
  const dupOrders = await rows(b, sql`select client_order_id, count(*)::int as n from orders where client_order_id like ${like} group by 1 having count(*) > 1`);
  const dupFills = await rows(b, sql`select fill_id, count(*)::int as n from fills group by 1 having count(*) > 1`);

  const byCid = new Map<string, Row[]>();
  for (const r of perOrder) byCid.set(String(r.cid), [...(byCid.get(String(r.cid)) ?? []), r]);
  let lost = 0;
  const lostSamples: string[] = [];
  const seen = new Set<string>();
  for (const [cid, orderId, nFills, status] of acked) {
    seen.add(cid);
    const found = byCid.get(cid);
    const r = found?.[0];
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
  // as stored), against the change of the stored paper balances over the run.
  const fillRows = await rows(b, sql`select f.side as side, f.price::text as price, f.amount::text as amount, f.fee::text as fee from fills f join orders o on o.id = f.order_id where o.client_order_id like ${like}`);
  let dBase = new Decimal(0);
  let dQuote = new Decimal(0);
  for (const f of fillRows) {
    const amount = new Decimal(String(f.amount));
    const notional = amount.times(new Decimal(String(f.price))).toDecimalPlaces(18, Decimal.ROUND_HALF_EVEN);
    const fee = new Decimal(String(f.fee));
    if (f.side === 'buy') {
      dBase = dBase.plus(amount);
      dQuote = dQuote.minus(notional).minus(fee);
    } else {
      dBase = dBase.minus(amount);
      dQuote = dQuote.plus(notional).minus(fee);
    }
  }
  const after = await simBalances(b);
  const balances = (
    [
      ['BTC', dBase],
      ['USDT', dQuote],
    ] as const
  ).map(([asset, delta]) => {
    const expected = new Decimal(before.get(asset) ?? '0').plus(delta);
    const actual = new Decimal(after.get(asset) ?? '0');
    return { asset, expected: expected.toFixed(), actual: actual.toFixed(), ok: expected.eq(actual) };
  });

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

// ---------------------------------------------------------------------------------------------------
// Orchestration

interface DriverResult {
  driver: Driver;
  orders: LoadReply;
  reads: LoadReply;
  ordersCpu: CpuSplit;
  readsCpu: CpuSplit;
  check: Check;
  ordersPerS: number;
  readsPerS: number;
}

async function benchDriver(client: ClientProcess, driver: Driver, cleanups: Array<() => Promise<void>>, runTag: string): Promise<DriverResult> {
  const b = await startBenchServer(driver, cleanups);
  await fundMasterAccount(b.url);
  const base = { url: b.url, concurrency: SETTINGS.concurrency, retryEvery: SETTINGS.retryEvery, raceEvery: SETTINGS.raceEvery };
  const run = (mode: LoadRequest['mode'], durationS: number, prefix: string) => client.call<LoadRequest, LoadReply>({ id: 0, ...base, mode, durationS, prefix });

  if (SETTINGS.warmup > 0) {
    log(`  ${driver}: warm-up ${SETTINGS.warmup}s orders, ${SETTINGS.warmup}s reads ... `);
    await run('orders', SETTINGS.warmup, `warmup-${runTag}-`);
    await run('reads', SETTINGS.warmup, '');
    log('done\n');
  }
  await sleep(200);
  const before = await simBalances(b);
  const prefix = `bench-${runTag}-`;
  log(`  ${driver}: orders ${SETTINGS.duration}s x ${SETTINGS.concurrency} clients ... `);
  let meter = cpuMeter();
  const orders = await run('orders', SETTINGS.duration, prefix);
  const ordersCpu = meter.stop(orders.cpuCores);
  const ordersPerS = orders.ok / (orders.elapsedMs / 1000);
  log(`${fmt(ordersPerS, 1)} orders/s\n`);
  await b.server.services.audit.flush();
  const check = await checkRun(b, prefix, orders.acked, before);

  log(`  ${driver}: reads GET /accounts ${SETTINGS.duration}s x ${SETTINGS.concurrency} clients ... `);
  meter = cpuMeter();
  const reads = await run('reads', SETTINGS.duration, '');
  const readsCpu = meter.stop(reads.cpuCores);
  const readsPerS = reads.ok / (reads.elapsedMs / 1000);
  log(`${fmt(readsPerS, 0)} reads/s\n`);
  await b.close();
  return { driver, orders, reads, ordersCpu, readsCpu, check, ordersPerS, readsPerS };
}

function report(results: DriverResult[]): void {
  console.log('');
  console.log(`Order throughput over REST: ${SETTINGS.concurrency} clients x ${SETTINGS.duration}s, market orders 0.001 BTC on sim BTC-USDT, retry every ${SETTINGS.retryEvery}th, racing duplicate every ${SETTINGS.raceEvery}th; ${cores()} cores`);
  if (!process.env.DATABASE_URL) console.log('postgres: skipped (DATABASE_URL is not set); PGlite only');
  const table: string[][] = [];
  for (const r of results) {
    table.push([`${r.driver} orders`, fmt(r.ordersPerS, 1), String(r.orders.ok), String(r.orders.requests), fmt(r.orders.latency.p50, 2), fmt(r.orders.latency.p99, 2), fmt(r.ordersCpu.serverUs / Math.max(1, r.orders.requests), 0), cpuCell(r.ordersCpu)]);
    table.push([`${r.driver} reads`, fmt(r.readsPerS, 1), String(r.reads.ok), String(r.reads.requests), fmt(r.reads.latency.p50, 2), fmt(r.reads.latency.p99, 2), fmt(r.readsCpu.serverUs / Math.max(1, r.reads.requests), 0), cpuCell(r.readsCpu)]);
  }
  printTable(['driver run', 'per s', 'ok', 'requests', 'p50 ms', 'p99 ms', 'srv µs/req', 'cpu srv/cli/other/steal'], table);

  console.log('');
  console.log('ratio orders/s ÷ reads/s (same server, same concurrency)');
  for (const r of results) console.log(`  ${r.driver.padEnd(9)} ${fmt(ratio(r.ordersPerS, r.readsPerS), 4)}  (${fmt(r.ordersPerS, 1)} / ${fmt(r.readsPerS, 1)})`);
  if (results.length === 2) console.log(`  postgres / pglite orders/s: ${fmt(ratio(results[1]!.ordersPerS, results[0]!.ordersPerS), 2)}`);

  console.log('');
  const verdicts: string[] = [];
  let allOk = true;
  for (const r of results) {
    const c = r.check;
    const o = r.orders;
    const fails = Object.entries(o.failures).map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
    const balOk = c.balances.every((x) => x.ok);
    const retryOk = o.retries.replayed === o.retries.sent && o.retries.sameOrder === o.retries.sent;
    const raceOk = o.races.bothNew === 0 && o.races.sameOrder === o.races.pairs - o.races.failed && o.races.oneNewOneReplayed === o.races.pairs - o.races.failed;
    const countOk = c.dbOrders === o.ok && c.unacked === 0;
    const ok = c.lost === 0 && c.duplicatedOrders === 0 && c.duplicatedFills === 0 && c.fillMismatch === 0 && balOk && retryOk && raceOk && countOk && Object.keys(o.failures).length === 0;
    allOk &&= ok;
    console.log(`${r.driver}: ${ok ? 'OK' : 'PROBLEM'}`);
    console.log(`  acknowledged new orders ${o.ok}; in the database ${c.dbOrders} orders with ${c.dbFills} fills (fills per order: ${Object.entries(c.fillsPerOrder).map(([k, v]) => `${k}:${v}`).join(' ')})`);
    console.log(`  lost ${c.lost}, duplicated orders ${c.duplicatedOrders}, duplicated fill ids ${c.duplicatedFills}, stored but never acknowledged ${c.unacked}, fills not adding up ${c.fillMismatch}`);
    if (c.lostSamples.length) console.log(`  lost e.g. ${c.lostSamples.join('; ')}`);
    console.log(`  retries after the ack: ${o.retries.sent} sent, ${o.retries.replayed} replayed:true, ${o.retries.sameOrder} same order id, ${o.retries.notReplayed} placed again, ${o.retries.failed} failed`);
    console.log(`  racing duplicates: ${o.races.pairs} pairs, ${o.races.oneNewOneReplayed} one new + one replayed, ${o.races.sameOrder} same order id, ${o.races.bothNew} both new, ${o.races.failed} failed`);
    console.log(`  balances vs fills: ${c.balances.map((x) => `${x.asset} ${x.ok ? 'exact' : `MISMATCH expected ${x.expected} stored ${x.actual}`}`).join(', ')}`);
    console.log(`  request failures: ${fails}${o.failureSamples.length ? ` (e.g. ${o.failureSamples.join(' | ')})` : ''}`);
    if (r.reads.failureSamples.length) console.log(`  read failures: ${r.reads.failureSamples.join(' | ')}`);
    verdicts.push(`${r.driver}:${ok ? 'ok' : 'problem'}`);
  }

  const warnings: string[] = [];
  for (const r of results) {
    warnings.push(...cpuWarnings(`${r.driver} orders`, r.ordersCpu, { otherExpected: r.driver === 'postgres' }));
    warnings.push(...cpuWarnings(`${r.driver} reads`, r.readsCpu, { otherExpected: r.driver === 'postgres' }));
  }
  console.log('');
  for (const w of warnings) console.log(`warning: ${w}`);

  const result = {
    settings: SETTINGS,
    node: process.version,
    cores: cores(),
    postgres: process.env.DATABASE_URL ? 'run' : 'skipped: DATABASE_URL is not set',
    runs: Object.fromEntries(
      results.map((r) => [
        r.driver,
        {
          orders_per_s: round(r.ordersPerS, 2),
          reads_per_s: round(r.readsPerS, 1),
          ratio_orders_to_reads: round(ratio(r.ordersPerS, r.readsPerS), 5),
          orders_latency_ms: roundSummary(r.orders.latency),
          reads_latency_ms: roundSummary(r.reads.latency),
          orders_requests: r.orders.requests,
          orders_acknowledged: r.orders.ok,
          cpu_orders: { server: round(r.ordersCpu.server), client: round(r.ordersCpu.client), other: round(r.ordersCpu.other), steal: round(r.ordersCpu.steal), server_us_per_request: round(r.ordersCpu.serverUs / Math.max(1, r.orders.requests), 1) },
          cpu_reads: { server: round(r.readsCpu.server), client: round(r.readsCpu.client), other: round(r.readsCpu.other), steal: round(r.readsCpu.steal), server_us_per_request: round(r.readsCpu.serverUs / Math.max(1, r.reads.requests), 1) },
          db_orders: r.check.dbOrders,
          db_fills: r.check.dbFills,
          fills_per_order: r.check.fillsPerOrder,
          lost: r.check.lost,
          duplicated_orders: r.check.duplicatedOrders,
          duplicated_fills: r.check.duplicatedFills,
          unacknowledged_in_db: r.check.unacked,
          fill_mismatch: r.check.fillMismatch,
          balances_exact: r.check.balances.every((x) => x.ok),
          retries: r.orders.retries,
          races: r.orders.races,
          failures: r.orders.failures,
        },
      ]),
    ),
    ok: allOk,
    warnings,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  await runMain(async (cleanups) => {
    const client = new ClientProcess(import.meta.url);
    cleanups.push(() => client.close());
    const runTag = Date.now().toString(36);
    if (!process.env.DATABASE_URL) log('postgres: skipped (DATABASE_URL is not set); running PGlite only\n');
    const results: DriverResult[] = [];
    for (const d of drivers()) results.push(await benchDriver(client, d, cleanups, runTag));
    report(results);
  });
}

if (process.env.BENCH_ROLE === 'client') clientMain();
else void main();
