/**
 * Sustained order placement through REST against a floor: C concurrent clients each place small market
 * orders with a unique client_order_id for D seconds, on one account and then spread over N accounts,
 * first against tradedesk and then against the floor (bench/lib/floor-server.ts: express + pg doing the
 * same durable work in 7 statements in one transaction) on the same Postgres server, in the same run,
 * with the same load generator, concurrency and retry/race mix. Printed: orders/s, latencies, server CPU
 * per order, Postgres backend CPU per order, SQL statements per order (counted by wrapping the drivers'
 * query functions in this process), ratios tradedesk / floor against the goals, and the checks that no
 * acknowledged order was lost or duplicated and the balances equal what the fills imply.
 *
 *   eval "$(bash scripts/services.sh | sed 's/^/export /')" && npm run bench:throughput   # Postgres + floor
 *   npx tsx bench/order-throughput.bench.ts            # no DATABASE_URL: embedded database, no floor
 *   BENCH_DURATION=30 BENCH_CONCURRENCY=16 npx tsx bench/order-throughput.bench.ts
 *
 * Clients run in a forked child process (plain node:http, one keep-alive connection per client), so
 * they never share an event loop with the server; tradedesk and the floor both run in this process, one
 * after the other. See bench/README.md for how to read the figures.
 */
import { sql } from 'drizzle-orm';
import { startFloorServer } from './lib/floor-server.js';
import { goal, goalJson, printGoals, type Goal } from './lib/goals.js';
import { BENCH_BALANCES, ClientProcess, cores, cpuWarnings, createFundedAccount, drivers, fmt, fundMasterAccount, intEnv, log, printTable, ratio, round, roundSummary, runMain, serveClient, sleep, startBenchServer, type CpuSplit, type Driver, cpuMeter } from './lib/harness.js';
import { checkRun, simBalances, type Check, type Query, type Row } from './lib/order-checks.js';
import { loadRun, type LoadReply, type LoadRequest } from './lib/order-load.js';
import { pgBackendCpu, type BackendCpu } from './lib/pg-backend-cpu.js';
import { countStatements, installStatementCounter, type StatementCount } from './lib/statement-counter.js';

const DATABASE_URL = process.env.DATABASE_URL;


const SETTINGS = {
  concurrency: Math.round(intEnv('BENCH_CONCURRENCY', 8)),
  duration: intEnv('BENCH_DURATION', 15),
  warmup: intEnv('BENCH_WARMUP', 2, 0),
  /** Every n-th order (counted over all clients) is sent again with the same client_order_id once acknowledged (5%). */
  retryEvery: Math.round(intEnv('BENCH_RETRY_EVERY', 20)),
  /** Every n-th order (counted over all clients) is sent twice at once on two connections (a racing duplicate, 2%). */
  raceEvery: Math.round(intEnv('BENCH_RACE_EVERY', 50)),
  /** Accounts of the spread load. */
  accounts: Math.round(intEnv('BENCH_ACCOUNTS', 8)),
  drivers: drivers(DATABASE_URL ? ['postgres'] : ['embedded']),
};

/** The issue's goals for tradedesk against the floor. */
const GOALS = { ordersPerS: 0.6, cpuPerOrder: 2, statementsPerOrder: 8, floorStatements: 7 };

const ASSETS = { base: 'BTC', quote: 'USDT' };
const SPREAD_ACCOUNTS = Array.from({ length: SETTINGS.accounts }, (_, i) => `bench_acct_${i}`);
const LOADS = [
  { key: 'one', label: '1 account', accounts: ['master_account'] },
  { key: 'spread', label: `${SETTINGS.accounts} accounts`, accounts: SPREAD_ACCOUNTS },
] as const;
type Load = (typeof LOADS)[number];

// ---------------------------------------------------------------------------------------------------
// Targets and one measured load

interface Target {
  /** 'tradedesk <driver>' or 'floor'. */
  name: string;
  kind: 'tradedesk' | 'floor';
  url: string;
  query: Query;
  /** The database on the DATABASE_URL server whose backends serve this target. */
  pgDatabase?: string;
  /** Waits until everything the run queued is stored (tradedesk's batched audit rows). */
  settle(): Promise<void>;
  /** SQL statements per second sent while no request runs (timers: resting-order matcher, snapshots). */
  idleStatementsPerS: number;
}

interface Measured {
  target: Target;
  load: Load;
  reply: LoadReply;
  cpu: CpuSplit;
  db: BackendCpu | null;
  statements: StatementCount;
  check: Check;
  ordersPerS: number;
  srvUsPerOrder: number;
  dbUsPerOrder: number;
  statementsPerOrder: number;
}

async function idleStatementRate(): Promise<number> {
  const w = countStatements();
  await sleep(2000);
  return w.stop().total / 2;
}

async function measureLoad(client: ClientProcess, t: Target, load: Load, runTag: string): Promise<Measured> {
  const run = (durationS: number, prefix: string) =>
    client.call<LoadRequest, LoadReply>({ id: 0, url: t.url, concurrency: SETTINGS.concurrency, durationS, prefix, accounts: [...load.accounts], retryEvery: SETTINGS.retryEvery, raceEvery: SETTINGS.raceEvery });
  if (SETTINGS.warmup > 0) {
    log(`  ${t.name} ${load.label}: warm-up ${SETTINGS.warmup}s ... `);
    await run(SETTINGS.warmup, `warmup-${runTag}-${load.key}-`);
    await t.settle();
    log('done\n');
  }
  await sleep(200);
  const before = await simBalances(t.query, [...load.accounts]);
  const prefix = `bench-${runTag}-${load.key}-`;
  log(`  ${t.name} ${load.label}: ${SETTINGS.duration}s x ${SETTINGS.concurrency} clients ... `);
  const backends = t.pgDatabase && DATABASE_URL ? await pgBackendCpu(DATABASE_URL, t.pgDatabase) : undefined;
  const counting = countStatements();
  const meter = cpuMeter();
  const reply = await run(SETTINGS.duration, prefix);
  const cpu = meter.stop(reply.cpuCores);
  // The statements of the run include the audit rows it queued, written by the batch after the last answer.
  await t.settle();
  const statements = counting.stop();
  const db = backends ? await backends.stop() : null;
  const ordersPerS = reply.ok / (reply.elapsedMs / 1000);
  log(`${fmt(ordersPerS, 1)} orders/s\n`);
  const check = await checkRun(t.query, prefix, reply.acked, [...load.accounts], before, ASSETS);
  const per = (v: number) => (reply.ok > 0 ? v / reply.ok : NaN);
  return { target: t, load, reply, cpu, db, statements, check, ordersPerS, srvUsPerOrder: per(cpu.serverUs), dbUsPerOrder: db?.available ? per(db.us) : NaN, statementsPerOrder: per(statements.total) };
}

async function benchTradedesk(client: ClientProcess, driver: Driver, cleanups: Array<() => Promise<void>>, runTag: string): Promise<Measured[]> {
  const b = await startBenchServer(driver, cleanups);
  await fundMasterAccount(b.url);
  for (const a of SPREAD_ACCOUNTS) await createFundedAccount(b.url, a);
  const query: Query = async (q) => ((await b.server.services.db.execute(q)) as unknown as { rows: Row[] }).rows;
  const pgDatabase = driver === 'postgres' ? String((await query(sql`select current_database() as d`))[0]!.d) : undefined;
  const t: Target = { name: `tradedesk ${driver}`, kind: 'tradedesk', url: b.url, query, pgDatabase, settle: () => b.server.services.audit.flush(), idleStatementsPerS: await idleStatementRate() };
  const out: Measured[] = [];
  for (const load of LOADS) out.push(await measureLoad(client, t, load, runTag));
  await b.close();
  return out;
}

async function benchFloor(client: ClientProcess, cleanups: Array<() => Promise<void>>, runTag: string): Promise<Measured[]> {
  const f = await startFloorServer(DATABASE_URL!, ['master_account', ...SPREAD_ACCOUNTS], BENCH_BALANCES, cleanups);
  const query: Query = async (q) => (await f.db.execute(q)).rows as Row[];
  const t: Target = { name: 'floor', kind: 'floor', url: f.url, query, pgDatabase: f.database, settle: async () => undefined, idleStatementsPerS: await idleStatementRate() };
  const out: Measured[] = [];
  for (const load of LOADS) out.push(await measureLoad(client, t, load, runTag));
  await f.close();
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Report

/** Machine CPU during the run in cores: server process / client process / the target's Postgres backends / everything else / steal. */
function cpuCell(m: Measured): string {
  const dbCores = m.db?.available ? m.db.us / 1000 / m.cpu.wallMs : NaN;
  const other = Number.isFinite(dbCores) ? Math.max(0, m.cpu.other - dbCores) : m.cpu.other;
  return `${fmt(m.cpu.server)}/${fmt(m.cpu.client)}/${Number.isFinite(dbCores) ? fmt(dbCores) : '-'}/${fmt(other)}/${fmt(m.cpu.steal)}`;
}

function checkOk(m: Measured): boolean {
  const c = m.check;
  const o = m.reply;
  const balOk = c.balances.every((x) => x.ok);
  const retryOk = o.retries.replayed === o.retries.sent && o.retries.sameOrder === o.retries.sent;
  const raceOk = o.races.bothNew === 0 && o.races.sameOrder === o.races.pairs - o.races.failed && o.races.oneNewOneReplayed === o.races.pairs - o.races.failed;
  const countOk = c.dbOrders === o.ok && c.unacked === 0;
  return c.lost === 0 && c.duplicatedOrders === 0 && c.duplicatedFills === 0 && c.fillMismatch === 0 && balOk && retryOk && raceOk && countOk && Object.keys(o.failures).length === 0;
}

function goalsFor(driver: string, td: Measured[], floor: Measured[]): Goal[] {
  const goals: Goal[] = [];
  for (const load of LOADS) {
    const t = td.find((m) => m.load.key === load.key)!;
    const f = floor.find((m) => m.load.key === load.key);
    goals.push(goal(`${driver} orders/s, ${load.label}`, f ? ratio(t.ordersPerS, f.ordersPerS) : NaN, '>=', GOALS.ordersPerS, 'x', f ? `${fmt(t.ordersPerS, 0)} vs ${fmt(f.ordersPerS, 0)}` : 'no floor'));
  }
  for (const load of LOADS) {
    const t = td.find((m) => m.load.key === load.key)!;
    const f = floor.find((m) => m.load.key === load.key);
    goals.push(goal(`${driver} server CPU per order, ${load.label}`, f ? ratio(t.srvUsPerOrder, f.srvUsPerOrder) : NaN, '<=', GOALS.cpuPerOrder, 'x', f ? `${fmt(t.srvUsPerOrder, 0)} vs ${fmt(f.srvUsPerOrder, 0)} µs` : 'no floor'));
  }
  for (const load of LOADS) {
    const t = td.find((m) => m.load.key === load.key)!;
    const f = floor.find((m) => m.load.key === load.key);
    goals.push(goal(`${driver} statements per order, ${load.label}`, t.statementsPerOrder, '<=', GOALS.statementsPerOrder, '', `${f ? `floor ${fmt(f.statementsPerOrder, 2)} measured` : 'no floor'}, ${GOALS.floorStatements} by design`));
  }
  return goals;
}

function report(all: Measured[]): void {
  const floor = all.filter((m) => m.target.kind === 'floor');
  const drivers = [...new Set(all.filter((m) => m.target.kind === 'tradedesk').map((m) => m.target.name))];
  console.log('');
  console.log(
    `Order throughput over REST, tradedesk vs floor: ${SETTINGS.concurrency} clients x ${SETTINGS.duration}s per load (after ${SETTINGS.warmup}s warm-up), market orders 0.001 BTC on sim BTC-USDT, retry every ${SETTINGS.retryEvery}th, racing duplicate every ${SETTINGS.raceEvery}th; loads: 1 account, ${SETTINGS.accounts} accounts; ${cores()} cores`,
  );
  if (!DATABASE_URL) console.log('floor: skipped (DATABASE_URL is not set; the floor runs on a Postgres server)');
  printTable(
    ['target', 'load', 'orders/s', 'new', 'requests', 'p50 ms', 'p99 ms', 'srv µs/order', 'db µs/order', 'stmts/order', 'cpu srv/cli/db/other/steal'],
    all.map((m) => [
      m.target.name,
      m.load.label,
      fmt(m.ordersPerS, 1),
      String(m.reply.ok),
      String(m.reply.requests),
      fmt(m.reply.latency.p50, 2),
      fmt(m.reply.latency.p99, 2),
      fmt(m.srvUsPerOrder, 0),
      Number.isFinite(m.dbUsPerOrder) ? fmt(m.dbUsPerOrder, 0) : '-',
      fmt(m.statementsPerOrder, 2),
      cpuCell(m),
    ]),
  );

  const ratios: Record<string, Record<string, number | null>> = {};
  const goals: Goal[] = [];
  for (const d of drivers) {
    const td = all.filter((m) => m.target.name === d);
    if (floor.length) {
      console.log('');
      const rows: string[][] = [];
      for (const load of LOADS) {
        const t = td.find((m) => m.load.key === load.key)!;
        const f = floor.find((m) => m.load.key === load.key)!;
        const r = {
          orders_per_s: ratio(t.ordersPerS, f.ordersPerS),
          p50: ratio(t.reply.latency.p50, f.reply.latency.p50),
          p99: ratio(t.reply.latency.p99, f.reply.latency.p99),
          server_cpu_per_order: ratio(t.srvUsPerOrder, f.srvUsPerOrder),
          db_cpu_per_order: ratio(t.dbUsPerOrder, f.dbUsPerOrder),
          total_cpu_per_order: ratio(t.srvUsPerOrder + t.dbUsPerOrder, f.srvUsPerOrder + f.dbUsPerOrder),
          statements_per_order: ratio(t.statementsPerOrder, f.statementsPerOrder),
        };
        ratios[`${d}/floor.${load.key}`] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
        rows.push([load.label, fmt(r.orders_per_s, 3), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.server_cpu_per_order, 2), fmt(r.db_cpu_per_order, 2), fmt(r.total_cpu_per_order, 2), fmt(r.statements_per_order, 2)]);
      }
      console.log(`ratios ${d} / floor${d.endsWith('postgres') ? '' : ' (the floor runs on the DATABASE_URL Postgres server, so this is not like for like)'}`);
      printTable(['load', 'orders/s', 'p50', 'p99', 'srv µs/order', 'db µs/order', 'srv+db µs/order', 'stmts/order'], rows);
    }
    goals.push(...goalsFor(d, td, floor));
  }
  console.log('');
  printGoals('goal (tradedesk / floor, same run)', goals);

  // Where the statements go: per order, by kind and by text, for each tradedesk target on one account.
  for (const m of all.filter((x) => x.load.key === 'one')) {
    const n = Math.max(1, m.reply.ok);
    console.log('');
    console.log(
      `statements per new order, ${m.target.name} ${m.load.label} (${m.statements.total} statements / ${m.reply.ok} new orders; ${m.reply.requests} requests incl. retries and races; ${fmt(m.target.idleStatementsPerS, 1)}/s sent while idle): ${Object.entries(m.statements.byKind)
        .map(([k, v]) => `${k} ${fmt(v / n, 2)}`)
        .join(', ')}`,
    );
    if (m.target.kind !== 'tradedesk') continue;
    for (const [text, count] of m.statements.byText.filter(([, c]) => c / n >= 0.01).slice(0, 30)) console.log(`  ${fmt(count / n, 2).padStart(6)}  ${text.length > 130 ? `${text.slice(0, 127)}...` : text}`);
  }

  console.log('');
  for (const m of all) {
    const c = m.check;
    const o = m.reply;
    const fails = Object.entries(o.failures).map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
    const badBalances = c.balances.filter((x) => !x.ok);
    console.log(`${m.target.name} ${m.load.label}: ${checkOk(m) ? 'OK' : 'PROBLEM'}`);
    console.log(`  acknowledged new orders ${o.ok}; in the database ${c.dbOrders} orders with ${c.dbFills} fills (fills per order: ${Object.entries(c.fillsPerOrder).map(([k, v]) => `${k}:${v}`).join(' ')})`);
    console.log(`  lost ${c.lost}, duplicated orders ${c.duplicatedOrders}, duplicated fill ids ${c.duplicatedFills}, stored but never acknowledged ${c.unacked}, fills not adding up ${c.fillMismatch}`);
    if (c.lostSamples.length) console.log(`  lost e.g. ${c.lostSamples.join('; ')}`);
    console.log(`  retries after the ack: ${o.retries.sent} sent, ${o.retries.replayed} replayed:true, ${o.retries.sameOrder} same order id, ${o.retries.notReplayed} placed again, ${o.retries.failed} failed`);
    console.log(`  racing duplicates: ${o.races.pairs} pairs, ${o.races.oneNewOneReplayed} one new + one replayed, ${o.races.sameOrder} same order id, ${o.races.bothNew} both new, ${o.races.failed} failed`);
    console.log(`  balances vs fills: ${badBalances.length === 0 ? `all ${c.balances.length} exact` : badBalances.map((x) => `${x.account} ${x.asset} MISMATCH expected ${x.expected} stored ${x.actual}`).join('; ')}`);
    console.log(`  request failures: ${fails}${o.failureSamples.length ? ` (e.g. ${o.failureSamples.join(' | ')})` : ''}`);
  }

  const warnings: string[] = [];
  for (const m of all) {
    // With the target's own Postgres backends measured, what is left in "other" is someone else's work.
    const dbCores = m.db?.available ? m.db.us / 1000 / m.cpu.wallMs : NaN;
    const cpu = Number.isFinite(dbCores) ? { ...m.cpu, other: Math.max(0, m.cpu.other - dbCores) } : m.cpu;
    warnings.push(...cpuWarnings(`${m.target.name} ${m.load.label}`, cpu, { otherExpected: !Number.isFinite(dbCores) && !m.target.name.endsWith('pglite') && m.target.name !== 'floor' }));
  }
  console.log('');
  for (const w of warnings) console.log(`warning: ${w}`);

  const ok = all.every(checkOk);
  const result = {
    settings: SETTINGS,
    node: process.version,
    cores: cores(),
    floor: DATABASE_URL ? 'run' : 'skipped: DATABASE_URL is not set',
    statement_counting: 'pg Client.prototype.query and PGlite query/exec/transaction wrapped in the bench process',
    runs: Object.fromEntries(
      all.map((m) => [
        `${m.target.name.replace(' ', '.')}.${m.load.key}`,
        {
          accounts: m.load.accounts.length,
          orders_per_s: round(m.ordersPerS, 2),
          latency_ms: roundSummary(m.reply.latency),
          requests: m.reply.requests,
          new_orders: m.reply.ok,
          server_cpu_us_per_order: round(m.srvUsPerOrder, 1),
          db_cpu_us_per_order: round(m.dbUsPerOrder, 1),
          statements: m.statements.total,
          statements_per_order: round(m.statementsPerOrder, 3),
          statements_by_kind: m.statements.byKind,
          statements_top: m.statements.byText.slice(0, 25),
          idle_statements_per_s: round(m.target.idleStatementsPerS, 1),
          cpu: { server: round(m.cpu.server), client: round(m.cpu.client), db: m.db?.available ? round(m.db.us / 1000 / m.cpu.wallMs) : null, other: round(m.cpu.other), steal: round(m.cpu.steal) },
          db_orders: m.check.dbOrders,
          db_fills: m.check.dbFills,
          fills_per_order: m.check.fillsPerOrder,
          lost: m.check.lost,
          duplicated_orders: m.check.duplicatedOrders,
          duplicated_fills: m.check.duplicatedFills,
          unacknowledged_in_db: m.check.unacked,
          fill_mismatch: m.check.fillMismatch,
          balances_exact: m.check.balances.every((x) => x.ok),
          retries: m.reply.retries,
          races: m.reply.races,
          failures: m.reply.failures,
          ok: checkOk(m),
        },
      ]),
    ),
    ratios,
    goals: goals.map(goalJson),
    ok,
    warnings,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  await runMain(async (cleanups) => {
    const counters = await installStatementCounter();
    log(`statement counting: ${counters.join(', ') || 'no driver found'}\n`);
    const client = new ClientProcess(import.meta.url);
    cleanups.push(() => client.close());
    const runTag = Date.now().toString(36);
    if (!DATABASE_URL) log('floor: skipped (DATABASE_URL is not set); tradedesk on the embedded database only\n');
    const all: Measured[] = [];
    for (const d of SETTINGS.drivers) all.push(...(await benchTradedesk(client, d, cleanups, runTag)));
    if (DATABASE_URL) all.push(...(await benchFloor(client, cleanups, runTag)));
    report(all);
  });
}

if (process.env.BENCH_ROLE === 'client') serveClient<LoadRequest>(async (msg) => ({ ...(await loadRun(msg)) }));
else void main();
