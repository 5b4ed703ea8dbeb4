/**
 * Order round trip: what placing one small market order costs through REST (POST /trading/orders,
 * Basic auth, over HTTP) compared with calling the paper engine directly on the same server instance
 * (`services.trading.place`), in the same run. A third mode, `execute`, runs the command pipeline
 * in-process (execute(): parse, handler, output check, audit row) without HTTP, to split the overhead.
 *
 *   npx tsx bench/order-roundtrip.bench.ts                       # the embedded database
 *   eval "$(bash scripts/services.sh | sed 's/^/export /')" && npm run bench:orders   # + Postgres
 *   BENCH_ORDERS=1000 BENCH_BLOCK=50 npx tsx bench/order-roundtrip.bench.ts
 *
 * Orders are sequential (one at a time) in every mode: market buy/sell of 0.001 BTC on sim BTC-USDT,
 * alternating, each with a unique client_order_id, so balances never run out. The modes are
 * interleaved in blocks (direct, execute, rest; the order rotates each round) so that all three see
 * the same table sizes and the same background load. The REST client runs in a forked child process
 * with one keep-alive connection. See bench/README.md for how to read the figures.
 */
import { Agent, request } from 'node:http';
import { AUTH, ClientProcess, cores, cpuCell, cpuMeter, cpuWarnings, drivers, fmt, fundMasterAccount, intEnv, log, orderBody, printTable, ratio, round, roundSummary, runMain, serveClient, startBenchServer, summarize, USER, type ClientReply, type CpuSplit, type Driver, type Summary } from './lib/harness.js';

const SETTINGS = {
  orders: Math.round(intEnv('BENCH_ORDERS', 500)),
  warmup: Math.round(intEnv('BENCH_WARMUP_ORDERS', 100)),
  block: Math.round(intEnv('BENCH_BLOCK', 50)),
};

const MODES = ['direct', 'execute', 'rest'] as const;
type Mode = (typeof MODES)[number];

// ---------------------------------------------------------------------------------------------------
// Client process: sequential POST /trading/orders on one keep-alive connection

interface OrdersRequest {
  id: number;
  url: string;
  /** Client order ids and sides, in order. */
  orders: Array<{ cid: string; side: 'buy' | 'sell' }>;
}

interface OrdersReply extends ClientReply {
  /** Round trip of each order in ms: request written until the whole response is read. */
  times: number[];
  bad: Array<{ status: number; body: string }>;
}

function call(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: AUTH };
    if (method === 'POST') Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request(
      { host: base.hostname, port: base.port, path, method, agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function clientMain(): void {
  serveClient<OrdersRequest>(async (msg) => {
    const base = new URL(msg.url);
    // A fresh connection per block, opened before the clock starts: the server closes keep-alive
    // connections idle for 5 s, and the other modes' blocks run in between.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await call(agent, base, 'GET', '/health');
    const times: number[] = [];
    const bad: OrdersReply['bad'] = [];
    for (const o of msg.orders) {
      const body = JSON.stringify(orderBody(o.side, o.cid));
      const t0 = performance.now();
      const res = await call(agent, base, 'POST', '/trading/orders', body);
      times.push(performance.now() - t0);
      if (res.status !== 201 || (JSON.parse(res.text) as { replayed?: boolean }).replayed !== false) bad.push({ status: res.status, body: res.text.slice(0, 300) });
    }
    agent.destroy();
    return { times, bad };
  });
}

// ---------------------------------------------------------------------------------------------------
// Orchestration (this process hosts the server)

interface ModeFigures {
  times: number[];
  /** Server-process CPU during this mode's blocks, µs. */
  serverUs: number;
  wallMs: number;
  clientCpuMs: number;
  cpu: CpuSplit[];
}

interface DriverResult {
  driver: Driver;
  modes: Record<Mode, { lat: Summary; cpuUsPerOrder: number; cpu: CpuSplit }>;
  errors: string[];
}

async function benchDriver(client: ClientProcess, driver: Driver, cleanups: Array<() => Promise<void>>, runTag: string): Promise<DriverResult> {
  const { server, url, close } = await startBenchServer(driver, cleanups);
  await fundMasterAccount(url);
  const { execute } = await import('../src/core/command/index.js');
  const { services, registry } = server;
  let seq = 0;
  const errors: string[] = [];
  const next = () => {
    const n = seq++;
    return { cid: `rt-${runTag}-${driver}-${n}`, side: (n % 2 === 0 ? 'buy' : 'sell') as 'buy' | 'sell' };
  };

  const runBlock = async (mode: Mode, count: number, into?: ModeFigures): Promise<void> => {
    const orders = Array.from({ length: count }, next);
    const meter = cpuMeter();
    let times: number[];
    let clientCores = 0;
    if (mode === 'rest') {
      const r = await client.call<OrdersRequest, OrdersReply>({ id: 0, url, orders } as OrdersRequest);
      times = r.times;
      clientCores = r.cpuCores;
      for (const b of r.bad) errors.push(`rest: ${b.status} ${b.body}`);
    } else {
      times = [];
      for (const o of orders) {
        const input = orderBody(o.side, o.cid);
        const t0 = performance.now();
        if (mode === 'direct') {
          const r = await services.trading.place(input);
          times.push(performance.now() - t0);
          if (r.replayed || r.order.status !== 'filled') errors.push(`direct: ${o.cid} replayed=${r.replayed} status=${r.order.status}`);
        } else {
          const r = (await execute(registry, 'trading_place_order', input, {
            services,
            principal: { name: USER, role: 'admin' },
            surface: { channel: 'rest', toolsets: 'all', readOnly: false },
            requestId: `bench-${o.cid}`,
            logger: services.logger,
          })) as { replayed: boolean; order: { status: string } };
          times.push(performance.now() - t0);
          if (r.replayed || r.order.status !== 'filled') errors.push(`execute: ${o.cid} replayed=${r.replayed} status=${r.order.status}`);
        }
      }
    }
    const cpu = meter.stop(clientCores);
    if (into) {
      into.times.push(...times);
      into.serverUs += cpu.serverUs;
      into.wallMs += cpu.wallMs;
      into.clientCpuMs += cpu.client * cpu.wallMs;
      into.cpu.push(cpu);
    }
  };

  log(`  ${driver}: warm-up ${SETTINGS.warmup} orders per mode ... `);
  for (const mode of MODES) await runBlock(mode, SETTINGS.warmup);
  log('done\n');

  const figures = Object.fromEntries(MODES.map((m) => [m, { times: [], serverUs: 0, wallMs: 0, clientCpuMs: 0, cpu: [] } as ModeFigures])) as Record<Mode, ModeFigures>;
  const rounds = Math.ceil(SETTINGS.orders / SETTINGS.block);
  log(`  ${driver}: ${rounds} rounds of ${SETTINGS.block} orders per mode ... `);
  for (let r = 0; r < rounds; r++) {
    const count = Math.min(SETTINGS.block, SETTINGS.orders - r * SETTINGS.block);
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(r + k) % MODES.length]!;
      await runBlock(mode, count, figures[mode]);
    }
    log('.');
  }
  log(' done\n');
  await close();

  const modes = {} as DriverResult['modes'];
  for (const m of MODES) {
    const f = figures[m];
    const cpu = f.cpu.reduce<CpuSplit>(
      (a, c) => ({ wallMs: a.wallMs + c.wallMs, server: 0, serverUs: a.serverUs + c.serverUs, client: 0, other: a.other + c.other * c.wallMs, machine: a.machine + c.machine * c.wallMs, steal: a.steal + c.steal * c.wallMs }),
      { wallMs: 0, server: 0, serverUs: 0, client: 0, other: 0, machine: 0, steal: 0 },
    );
    // Time-weighted averages over the mode's blocks.
    const total: CpuSplit = { ...cpu, server: cpu.serverUs / 1000 / cpu.wallMs, client: f.clientCpuMs / cpu.wallMs, other: cpu.other / cpu.wallMs, machine: cpu.machine / cpu.wallMs, steal: cpu.steal / cpu.wallMs };
    modes[m] = { lat: summarize(f.times), cpuUsPerOrder: f.serverUs / f.times.length, cpu: total };
  }
  return { driver, modes, errors };
}

function report(results: DriverResult[]): void {
  console.log('');
  console.log(`Order round trip, sequential market orders 0.001 BTC on sim BTC-USDT: ${SETTINGS.orders} per mode after ${SETTINGS.warmup} warm-up, interleaved in blocks of ${SETTINGS.block}, ${cores()} cores`);
  const rows: string[][] = [];
  for (const r of results) {
    for (const m of MODES) {
      const x = r.modes[m];
      rows.push([`${r.driver} ${m}`, String(x.lat.n), fmt(x.lat.p50, 3), fmt(x.lat.p90, 3), fmt(x.lat.p99, 3), fmt(x.lat.max, 1), fmt(1000 / x.lat.mean, 0), fmt(x.cpuUsPerOrder, 0), cpuCell(x.cpu)]);
    }
  }
  printTable(['driver mode', 'orders', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'orders/s', 'srv µs/order', 'cpu srv/cli/other/steal'], rows);

  console.log('');
  console.log('REST vs direct (same server, same run)   p50 over ms  p99 over ms  p50 ratio  p99 ratio  cpu ratio');
  const ratios: Record<string, unknown> = {};
  for (const r of results) {
    const d = r.modes.direct;
    for (const m of ['execute', 'rest'] as const) {
      const x = r.modes[m];
      const o = { p50_overhead_ms: x.lat.p50 - d.lat.p50, p99_overhead_ms: x.lat.p99 - d.lat.p99, p50: ratio(x.lat.p50, d.lat.p50), p99: ratio(x.lat.p99, d.lat.p99), cpu_per_order: ratio(x.cpuUsPerOrder, d.cpuUsPerOrder) };
      ratios[`${r.driver}.${m}_vs_direct`] = { p50_overhead_ms: round(o.p50_overhead_ms), p99_overhead_ms: round(o.p99_overhead_ms), p50: round(o.p50), p99: round(o.p99), cpu_per_order: round(o.cpu_per_order) };
      console.log(
        `  ${`${r.driver} ${m} / direct`.padEnd(38)} ${fmt(o.p50_overhead_ms, 3).padStart(11)}  ${fmt(o.p99_overhead_ms, 3).padStart(11)}  ${fmt(o.p50, 2).padStart(9)}  ${fmt(o.p99, 2).padStart(9)}  ${fmt(o.cpu_per_order, 2).padStart(9)}`,
      );
    }
  }
  if (results.length === 2) {
    const [a, b] = results as [DriverResult, DriverResult];
    console.log('');
    console.log(`${b.driver} / ${a.driver} p50: direct ${fmt(ratio(b.modes.direct.lat.p50, a.modes.direct.lat.p50))}, rest ${fmt(ratio(b.modes.rest.lat.p50, a.modes.rest.lat.p50))}`);
  }

  const warnings: string[] = [];
  for (const r of results) {
    for (const m of MODES) warnings.push(...cpuWarnings(`${r.driver} ${m}`, r.modes[m].cpu, { otherExpected: r.driver !== 'pglite', clientLimit: 0.5 }));
    if (r.errors.length) warnings.push(`${r.driver}: ${r.errors.length} orders did not come back filled and new: ${r.errors.slice(0, 3).join(' | ')}`);
  }
  if (!process.env.DATABASE_URL) console.log('\npostgres: skipped (DATABASE_URL is not set)');
  console.log('');
  for (const w of warnings) console.log(`warning: ${w}`);

  const result = {
    settings: SETTINGS,
    node: process.version,
    cores: cores(),
    runs: Object.fromEntries(
      results.flatMap((r) =>
        MODES.map((m) => {
          const x = r.modes[m];
          return [`${r.driver}.${m}`, { latency_ms: roundSummary(x.lat), cpu_server_us_per_order: round(x.cpuUsPerOrder, 1), cpu_server: round(x.cpu.server), cpu_client: round(x.cpu.client), cpu_other: round(x.cpu.other), cpu_steal: round(x.cpu.steal) }];
        }),
      ),
    ),
    ratios,
    errors: results.reduce((n, r) => n + r.errors.length, 0),
    warnings,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  await runMain(async (cleanups) => {
    const client = new ClientProcess(import.meta.url);
    cleanups.push(() => client.close());
    const runTag = Date.now().toString(36);
    const results: DriverResult[] = [];
    for (const d of drivers()) results.push(await benchDriver(client, d, cleanups, runTag));
    report(results);
  });
}

if (process.env.BENCH_ROLE === 'client') clientMain();
else void main();
