/**
 * REST pipeline benchmark: what a read command costs through the whole pipeline (Basic auth, input
 * assembly and zod parse, handler, output check, batched audit row) compared with a bare express 5
 * app that returns the very same JSON body.
 *
 *   npm run bench                                  # the embedded database (BENCH_DRIVERS=pglite adds the earlier one)
 *   eval "$(bash scripts/services.sh | sed 's/^/export /')" && npm run bench   # + Postgres server
 *   BENCH_DURATION=20 BENCH_CONNECTIONS=20 npm run bench
 *
 * Process layout (the machine this was written on has 2 cores): the servers run in this process, one
 * loaded at a time (pipeline and baseline alternate in rounds); the load generator (autocannon) runs in a forked child
 * process, so that it never shares an event loop with the server it measures. The layout is the same
 * for the pipeline and for the baseline. See bench/README.md for how to read the figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { goal, goalJson, printGoals, type Goal } from './lib/goals.js';
import { AUTH, cores, drivers, fmt, intEnv, machineCpu, percentile, ratio, round, sleep, startBenchServer, type Driver } from './lib/harness.js';
import { pgBackendCpu } from './lib/pg-backend-cpu.js';

// ---------------------------------------------------------------------------------------------------
// Settings

const SETTINGS = {
  duration: intEnv('BENCH_DURATION', 6),
  /** Rounds of pipeline-then-baseline per route; the round with the median CPU ratio is reported. */
  rounds: intEnv('BENCH_ROUNDS', 3),
  warmup: intEnv('BENCH_WARMUP', 2),
  connections: Math.round(intEnv('BENCH_CONNECTIONS', 10)),
  pipelining: 1,
};

/**
 * The read commands measured: one answered from memory (sim markets), one that reads the database; and
 * the issue's goal for each, server CPU per request at most this many times the bare express app's.
 */
const ROUTES = [
  { key: 'trading_rules', path: '/connectors/sim/trading-rules?trading_pairs=BTC-USDT', what: 'sim trading rules (no DB read)', cpuGoal: 1.5 },
  { key: 'balances', path: '/accounts/master_account/balances?connector_name=sim', what: 'paper balances (DB read)', cpuGoal: 3 },
] as const;
type RouteKey = (typeof ROUTES)[number]['key'];

// ---------------------------------------------------------------------------------------------------
// Load generator (child process)

interface LoadRequest {
  id: number;
  url: string;
  duration: number;
  connections: number;
  pipelining: number;
  headers: Record<string, string>;
}

interface LoadResult {
  id: number;
  /** autocannon's mean of the per-second request samples. */
  rps: number;
  /** Latency percentiles of the 2xx responses in ms, from autocannon's per-response timings (µs precision). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** autocannon's own histogram figures, which are whole milliseconds. */
  acP50: number;
  acP99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests written to the sockets, including the ones cut off in flight when the run stopped. */
  sent: number;
  durationS: number;
  /** CPU the load generator used during the run, in cores (1 = one core fully busy). */
  cpuCores: number;
}

async function loadgenMain(): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  process.on('message', (msg: LoadRequest | { exit: true }) => {
    if ('exit' in msg) {
      process.disconnect();
      return;
    }
    let times = new Float64Array(1 << 16);
    let n = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const instance = autocannon(
      { url: msg.url, duration: msg.duration, connections: msg.connections, pipelining: msg.pipelining, headers: msg.headers },
      (err, result) => {
        if (err) {
          process.send!({ id: msg.id, error: String(err) });
          return;
        }
        const cpu = process.cpuUsage(cpu0);
        const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
        const sorted = times.subarray(0, n).sort();
        const out: LoadResult = {
          id: msg.id,
          rps: result.requests.average,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: percentile(sorted, 100),
          acP50: result.latency.p50,
          acP99: result.latency.p99,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          sent: result.requests.sent,
          durationS: result.duration,
          cpuCores,
        };
        process.send!(out);
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (n === times.length) {
        const bigger = new Float64Array(times.length * 2);
        bigger.set(times);
        times = bigger;
      }
      times[n++] = responseTime;
    });
  });
}

class LoadGenerator {
  #child: ChildProcess;
  #next = 1;
  #pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();

  constructor() {
    // Same file, same loader flags (tsx) as this process; the child only ever imports autocannon.
    this.#child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'loadgen' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: LoadResult | { id: number; error: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('error' in m) p.reject(new Error(`autocannon: ${m.error}`));
      else p.resolve(m);
    });
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${code})`));
      this.#pending.clear();
    });
  }

  run(url: string, duration: number): Promise<LoadResult> {
    const id = this.#next++;
    const req: LoadRequest = { id, url, duration, connections: SETTINGS.connections, pipelining: SETTINGS.pipelining, headers: { authorization: AUTH } };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send(req);
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return;
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.#child.send({ exit: true });
    await Promise.race([exited, sleep(2000).then(() => void this.#child.kill())]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Orchestration (this process hosts the servers)

/** Where the machine's CPU went during a measured run, in cores. */
interface CpuSplit {
  server: number;
  /** Server CPU per completed request, in µs: steadier than req/s on a busy machine. */
  serverUsPerReq: number;
  loadgen: number;
  /** The Postgres backends serving the run's database (NaN when not measured: PGlite, the baseline, a remote server). */
  db: number;
  dbUsPerReq: number;
  /** Everything else on the machine: other processes, the kernel's network work, Postgres's shared processes (and its backends when they are not measured). */
  other: number;
  machine: number;
  /** CPU time the hypervisor took from this machine's cores (a busy host), in cores. */
  steal: number;
}

interface Measured {
  name: string;
  driver: Driver | 'baseline';
  /** For a baseline run: the driver whose pipeline ran just before it, which it is compared with. */
  pairedWith?: Driver;
  route: RouteKey;
  load: LoadResult;
  cpu: CpuSplit;
  audit?: { rows: number; ok: number; inFlightAtStop: number; matches: boolean };
}

interface Target {
  url: string;
  /** The audit row count after every queued row is stored and no request is in flight. */
  settledAuditCount?: () => Promise<number>;
  /** The database on the DATABASE_URL server that serves the target, whose backends' CPU is measured. */
  pgDatabase?: string;
}

/** Warm-up, then the measured run; for the pipeline also the audit rows written during the measured run. */
async function measure(gen: LoadGenerator, target: Target, name: string, driver: Measured['driver'], route: (typeof ROUTES)[number]): Promise<Measured> {
  const url = target.url + route.path;
  process.stderr.write(`  ${name}: warm-up ${SETTINGS.warmup}s, run ${SETTINGS.duration}s ... `);
  await gen.run(url, SETTINGS.warmup);
  const before = target.settledAuditCount ? await target.settledAuditCount() : 0;
  const backends = target.pgDatabase && process.env.DATABASE_URL ? await pgBackendCpu(process.env.DATABASE_URL, target.pgDatabase) : undefined;
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const t0 = performance.now();
  const load = await gen.run(url, SETTINGS.duration);
  const wallMs = performance.now() - t0;
  const cpuUsed = process.cpuUsage(cpu0);
  const machine1 = machineCpu();
  const backendCpu = backends ? await backends.stop() : undefined;
  const dbUs = backendCpu?.available ? backendCpu.us : NaN;
  const server = (cpuUsed.user + cpuUsed.system) / 1000 / wallMs;
  const machineCores = (machine1.busy - machine0.busy) / wallMs;
  const serverUsPerReq = (cpuUsed.user + cpuUsed.system) / Math.max(1, load.ok + load.non2xx);
  const steal = (machine1.steal - machine0.steal) / wallMs;
  const db = dbUs / 1000 / wallMs;
  const dbUsPerReq = dbUs / Math.max(1, load.ok + load.non2xx);
  const other = Math.max(0, machineCores - server - load.cpuCores - (Number.isFinite(db) ? db : 0));
  const cpu: CpuSplit = { server, serverUsPerReq, loadgen: load.cpuCores, db, dbUsPerReq, other, machine: machineCores, steal };
  const m: Measured = { name, driver, route: route.key, load, cpu };
  if (target.settledAuditCount) {
    const rows = (await target.settledAuditCount()) - before;
    const inFlightAtStop = load.sent - load.ok - load.non2xx;
    // Every completed call has its row; a request cut off by autocannon at the end of the run still
    // reaches the handler and is audited too, so rows = 2xx + in flight (each at most one per connection).
    const matches = load.non2xx === 0 && inFlightAtStop >= 0 && inFlightAtStop <= SETTINGS.connections * SETTINGS.pipelining && rows === load.ok + inFlightAtStop;
    m.audit = { rows, ok: load.ok, inFlightAtStop, matches };
  }
  process.stderr.write(`${Math.round(load.rps)} req/s\n`);
  return m;
}

async function fetchBody(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: AUTH } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The real server on one driver, up for the whole driver's rounds, and the bodies it serves. */
async function pipelineTarget(driver: Driver, cleanups: Array<() => Promise<void>>): Promise<{ target: Target; bodies: Map<RouteKey, unknown>; close: () => Promise<void> }> {
  const { sql } = await import('drizzle-orm');
  const { server, close } = await startBenchServer(driver, cleanups, { fallbackToDatabaseUrl: true });

  const { db, audit } = server.services;
  const pgDatabase = driver === 'postgres' ? String(((await db.execute(sql`select current_database() as d`)) as unknown as { rows: Array<{ d: string }> }).rows[0]?.d) : undefined;
  const countRows = async (): Promise<number> => {
    const res = (await db.execute(sql`select count(*)::int as n from audit_events`)) as unknown as { rows: Array<{ n: number | string }> };
    return Number(res.rows[0]?.n ?? NaN);
  };
  const settledAuditCount = async (): Promise<number> => {
    // Requests cut off at the end of a run are still being handled for a moment; wait until the count is stable.
    let last = -1;
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      await audit.flush();
      const n = await countRows();
      if (n === last) return n;
      last = n;
    }
    return last;
  };
  const bodies = new Map<RouteKey, unknown>();
  for (const route of ROUTES) bodies.set(route.key, await fetchBody(server.url + route.path));
  return { target: { url: server.url, settledAuditCount, pgDatabase }, bodies, close };
}

/** A bare express 5 app serving the captured bodies on the same paths, with the same response headers switched off. */
async function baselineTarget(bodies: Map<RouteKey, unknown>, cleanups: Array<() => Promise<void>>): Promise<{ target: Target; close: () => Promise<void> }> {
  const { default: express } = await import('express');
  const app = express();
  // The real app sends no ETag and no X-Powered-By; do the same so both answer the same bytes of body.
  app.disable('x-powered-by');
  app.set('etag', false);
  for (const route of ROUTES) {
    const body = bodies.get(route.key);
    const path = route.path.split('?')[0]!;
    app.get(path, (_req, res) => {
      res.json(body);
    });
  }
  const http: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  };
  cleanups.push(close);
  const addr = http.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  process.stderr.write('baseline: bare express app up\n');
  for (const route of ROUTES) {
    const got = await fetchBody(url + route.path);
    if (JSON.stringify(got) !== JSON.stringify(bodies.get(route.key))) throw new Error(`baseline ${route.key} does not serve the captured body`);
  }
  return { target: { url }, close };
}

/**
 * Each route, `rounds` times: the pipeline's run, then the baseline's right after it. The machine's
 * speed drifts by tens of percent within minutes on a shared host, so a single pair of runs can land
 * on either side of a drift; the pair with the median CPU ratio is the one reported, and every round's
 * ratio is printed beside it.
 */
async function benchDriver(gen: LoadGenerator, driver: Driver, pipeline: Target, baseline: Target): Promise<{ results: Measured[]; roundRatios: Record<string, number[]> }> {
  const results: Measured[] = [];
  const roundRatios: Record<string, number[]> = {};
  for (const route of ROUTES) {
    const pairs: Array<{ p: Measured; b: Measured; ratio: number }> = [];
    for (let r = 1; r <= SETTINGS.rounds; r++) {
      const p = await measure(gen, pipeline, `pipeline/${driver} ${route.key} (round ${r})`, driver, route);
      const b: Measured = { ...(await measure(gen, baseline, `baseline (after ${driver}) ${route.key} (round ${r})`, 'baseline', route)), pairedWith: driver };
      pairs.push({ p, b, ratio: ratio(p.cpu.serverUsPerReq, b.cpu.serverUsPerReq) });
    }
    roundRatios[`${driver}.${route.key}`] = pairs.map((x) => round(x.ratio, 3) ?? NaN);
    const median = [...pairs].sort((a, c) => a.ratio - c.ratio)[Math.floor(pairs.length / 2)]!;
    results.push({ ...median.p, name: `pipeline/${driver} ${route.key}` }, { ...median.b, name: `baseline (after ${driver}) ${route.key}` });
  }
  return { results, roundRatios };
}

// ---------------------------------------------------------------------------------------------------
// Report

function report(all: Measured[]): void {
  const head = ['target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', '2xx', 'non2xx/err', 'cpu srv/gen/db/other/steal', 'srv µs/req', 'db µs/req', 'audit rows'];
  const rows: string[][] = [head];
  for (const m of all) {
    const l = m.load;
    const a = m.audit ? `${m.audit.rows} ${m.audit.matches ? 'OK' : 'MISMATCH'} (${m.audit.ok} + ${m.audit.inFlightAtStop} in flight)` : '-';
    const measuredDb = Number.isFinite(m.cpu.db);
    const cpu = `${fmt(m.cpu.server)}/${fmt(m.cpu.loadgen)}/${measuredDb ? fmt(m.cpu.db) : '-'}/${fmt(m.cpu.other)}/${fmt(m.cpu.steal)}`;
    rows.push([m.name, fmt(l.rps, 0), fmt(l.p50, 3), fmt(l.p90, 3), fmt(l.p99, 3), String(l.ok), `${l.non2xx}/${l.errors}`, cpu, fmt(m.cpu.serverUsPerReq, 0), measuredDb ? fmt(m.cpu.dbUsPerReq, 0) : '-', a]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  console.log('');
  console.log(`REST pipeline vs bare express: ${SETTINGS.duration}s runs after ${SETTINGS.warmup}s warm-up, ${SETTINGS.connections} connections, pipelining ${SETTINGS.pipelining}, ${cores()} cores`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));

  const ratios: Record<string, { rps: number | null; p50: number | null; p99: number | null; cpu_per_req: number | null }> = {};
  const goals: Goal[] = [];
  console.log('');
  console.log('ratios pipeline / baseline     req/s     p50     p99  cpu/req');
  for (const m of all) {
    if (m.driver === 'baseline') continue;
    const b = all.find((x) => x.driver === 'baseline' && x.pairedWith === m.driver && x.route === m.route);
    if (!b) continue;
    const r = { rps: ratio(m.load.rps, b.load.rps), p50: ratio(m.load.p50, b.load.p50), p99: ratio(m.load.p99, b.load.p99), cpu: ratio(m.cpu.serverUsPerReq, b.cpu.serverUsPerReq) };
    ratios[`${m.driver}.${m.route}`] = { rps: round(r.rps), p50: round(r.p50), p99: round(r.p99), cpu_per_req: round(r.cpu) };
    console.log(`  ${`${m.driver} ${m.route}`.padEnd(28)} ${fmt(r.rps, 3).padStart(6)}  ${fmt(r.p50, 2).padStart(6)}  ${fmt(r.p99, 2).padStart(6)}  ${fmt(r.cpu, 2).padStart(7)}`);
    const limit = ROUTES.find((x) => x.key === m.route)!.cpuGoal;
    goals.push(goal(`${m.driver} ${m.route} server CPU per request`, r.cpu, '<=', limit, 'x', `${fmt(m.cpu.serverUsPerReq, 0)} vs ${fmt(b.cpu.serverUsPerReq, 0)} µs`));
  }
  console.log('');
  printGoals('goal (pipeline / bare express, same run)', goals);

  console.log('');
  const audits = all.filter((m) => m.audit);
  const allMatch = audits.every((m) => m.audit!.matches);
  console.log(
    allMatch
      ? 'audit: one row per call in every pipeline run (rows = 2xx responses + requests autocannon cut off in flight when it stopped; those reached the handler too).'
      : `audit: MISMATCH in ${audits.filter((m) => !m.audit!.matches).map((m) => m.name).join(', ')}`,
  );
  // A comparison is only fair when the machine was otherwise quiet and the load generator had CPU to spare.
  const warnings: string[] = [];
  for (const m of all) {
    // With the run's own Postgres backends measured, what is left in "other" is someone else's work.
    const busyOther = m.driver !== 'pglite' && m.driver !== 'baseline' && !Number.isFinite(m.cpu.db) ? undefined : m.cpu.other;
    if (busyOther !== undefined && busyOther > 0.25) warnings.push(`${m.name}: other processes used ${fmt(busyOther)} cores during the run; its figures are disturbed`);
    if (m.cpu.steal > 0.1) warnings.push(`${m.name}: the hypervisor took ${fmt(m.cpu.steal)} cores (steal) during the run; its figures are disturbed`);
    if (m.cpu.loadgen > 0.85) warnings.push(`${m.name}: the load generator used ${fmt(m.cpu.loadgen)} cores; the server may be faster than measured`);
  }
  for (const w of warnings) console.log(`warning: ${w}`);

  const result = {
    settings: SETTINGS,
    node: process.version,
    cores: cores(),
    runs: Object.fromEntries(
      all.map((m) => [
        m.pairedWith ? `baseline_after_${m.pairedWith}.${m.route}` : `${m.driver}.${m.route}`,
        {
          rps: round(m.load.rps, 1),
          p50_ms: round(m.load.p50),
          p90_ms: round(m.load.p90),
          p99_ms: round(m.load.p99),
          max_ms: round(m.load.max),
          autocannon_p50_ms: m.load.acP50,
          autocannon_p99_ms: m.load.acP99,
          ok: m.load.ok,
          non2xx: m.load.non2xx,
          errors: m.load.errors,
          sent: m.load.sent,
          duration_s: m.load.durationS,
          cpu_server: round(m.cpu.server),
          cpu_server_us_per_req: round(m.cpu.serverUsPerReq, 1),
          cpu_loadgen: round(m.cpu.loadgen),
          cpu_db: round(m.cpu.db),
          cpu_db_us_per_req: round(m.cpu.dbUsPerReq, 1),
          cpu_other: round(m.cpu.other),
          cpu_steal: round(m.cpu.steal),
          ...(m.audit ? { audit_rows: m.audit.rows, audit_in_flight_at_stop: m.audit.inFlightAtStop, audit_matches: m.audit.matches } : {}),
        },
      ]),
    ),
    ratios,
    goals: goals.map(goalJson),
    audit_ok: allMatch,
    warnings,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  const gen = new LoadGenerator();
  let code = 0;
  try {
    const all: Measured[] = [];
    const roundRatios: Record<string, number[]> = {};
    let bodies: Map<RouteKey, unknown> | undefined;
    let baseline: Awaited<ReturnType<typeof baselineTarget>> | undefined;
    for (const driver of drivers()) {
      const p = await pipelineTarget(driver, cleanups);
      if (!bodies) bodies = p.bodies;
      else {
        for (const [k, v] of p.bodies) {
          if (JSON.stringify(v) !== JSON.stringify(bodies.get(k))) process.stderr.write(`  note: ${driver} answers ${k} with a different body than the first driver\n`);
        }
      }
      baseline ??= await baselineTarget(bodies, cleanups);
      const r = await benchDriver(gen, driver, p.target, baseline.target);
      all.push(...r.results);
      Object.assign(roundRatios, r.roundRatios);
      await p.close();
    }
    await baseline?.close();
    console.log('');
    console.log(`server CPU per request, pipeline / baseline, each of ${SETTINGS.rounds} rounds (the median round is the one reported below)`);
    for (const [k, xs] of Object.entries(roundRatios)) console.log(`  ${k.padEnd(26)} ${xs.map((x) => fmt(x)).join('  ')}`);
    report(all);
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    code = 1;
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => process.stderr.write(`cleanup: ${(err as Error).message}\n`));
    await gen.close();
  }
  process.exit(code);
}

if (process.env.BENCH_ROLE === 'loadgen') void loadgenMain();
else void main();
