/**
 * Shared pieces of the order and stream benchmarks: settings from the environment, the real server on
 * a private database (PGlite in a temporary DATA_DIR, or a temporary database on the DATABASE_URL
 * server), a forked child of the same script for the clients, CPU accounting, percentiles and tables.
 *
 * Nothing here is measured itself; see bench/README.md for how each benchmark uses it.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningServer } from '../../src/app/server.js';
import type { Config } from '../../src/core/config.js';

// ---------------------------------------------------------------------------------------------------
// Settings and small helpers

export const intEnv = (name: string, def: number, min = 1): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min} (got "${raw}")`);
  return n;
};

export const USER = 'bench';
export const PASSWORD = 'bench-password-0123';
export const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
export const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
export const round = (v: number, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);
export const cores = () => cpus().length;

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, mean: s.length ? sum / s.length : NaN, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: percentile(s, 100) };
}

export const roundSummary = (s: Summary, d = 3) => ({ n: s.n, mean: round(s.mean, d), p50: round(s.p50, d), p90: round(s.p90, d), p99: round(s.p99, d), max: round(s.max, d) });

/** Prints an aligned table: the first column left-aligned, the others right-aligned. */
export function printTable(head: string[], rows: string[][]): void {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export const log = (s: string) => process.stderr.write(s);

// ---------------------------------------------------------------------------------------------------
// CPU accounting

/**
 * Busy milliseconds summed over every core since boot, and the time the hypervisor gave the cores to
 * someone else (steal), from /proc/stat on Linux (USER_HZ is 100 there); elsewhere from os.cpus()
 * without steal.
 */
export function machineCpu(): { busy: number; steal: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: (user + nice + system + irq + softirq) * 10, steal: steal * 10 };
  } catch {
    let busy = 0;
    for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
    return { busy, steal: 0 };
  }
}

/** Where the machine's CPU went during a measured run, in cores (1 = one core fully busy). */
export interface CpuSplit {
  wallMs: number;
  /** This process (the server under test): main thread, GC and libuv threads, so it can exceed 1. */
  server: number;
  /** Server CPU time in µs over the whole run (divide by the work done for a per-unit cost). */
  serverUs: number;
  /** The forked client process, as it reported its own CPU. */
  client: number;
  /** Everything else: other processes, kernel network work, and the Postgres server when it is the driver. */
  other: number;
  machine: number;
  steal: number;
}

/**
 * Starts a CPU measurement of this process and the machine. `end()` freezes the figures at that moment
 * (when the client's own figure arrives later); `stop(clientCores)` closes it (at `end()` if called).
 */
export function cpuMeter(): { end(): void; stop(clientCores: number): CpuSplit } {
  const cpu0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0 = performance.now();
  let frozen: { wallMs: number; used: NodeJS.CpuUsage; m1: { busy: number; steal: number } } | undefined;
  const end = () => {
    frozen ??= { wallMs: performance.now() - t0, used: process.cpuUsage(cpu0), m1: machineCpu() };
  };
  return {
    end,
    stop(clientCores: number): CpuSplit {
      end();
      const { wallMs, used, m1 } = frozen!;
      const serverUs = used.user + used.system;
      const server = serverUs / 1000 / wallMs;
      const machine = (m1.busy - m0.busy) / wallMs;
      return { wallMs, server, serverUs, client: clientCores, other: Math.max(0, machine - server - clientCores), machine, steal: (m1.steal - m0.steal) / wallMs };
    },
  };
}

export const cpuCell = (c: CpuSplit) => `${fmt(c.server)}/${fmt(c.client)}/${fmt(c.other)}/${fmt(c.steal)}`;

/** Warnings for a run whose figures the rest of the machine disturbed. */
export function cpuWarnings(name: string, c: CpuSplit, opts: { otherExpected?: boolean; clientLimit?: number } = {}): string[] {
  const out: string[] = [];
  if (!opts.otherExpected && c.other > 0.25) out.push(`${name}: other processes used ${fmt(c.other)} cores during the run; its figures are disturbed`);
  if (c.steal > 0.1) out.push(`${name}: the hypervisor took ${fmt(c.steal)} cores (steal) during the run; its figures are disturbed`);
  if (c.client > (opts.clientLimit ?? 0.85)) out.push(`${name}: the client process used ${fmt(c.client)} cores; the server may be faster than measured`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The real server on a private database

/**
 * Where the server's database runs: `embedded` is the default of `npm start` (a real Postgres run from
 * the bundled binaries in DATA_DIR), `pglite` the earlier embedded driver (EMBEDDED_DATABASE=pglite),
 * `postgres` a private database on the server at DATABASE_URL.
 */
export type Driver = 'embedded' | 'pglite' | 'postgres';
const DRIVERS: readonly Driver[] = ['embedded', 'pglite', 'postgres'];

/** BENCH_DRIVERS (comma-separated) when set, else `defaults`: the embedded database, and Postgres when DATABASE_URL is set. */
export function drivers(defaults: Driver[] = process.env.DATABASE_URL ? ['embedded', 'postgres'] : ['embedded']): Driver[] {
  const raw = process.env.BENCH_DRIVERS;
  if (!raw) return defaults;
  const list = raw.split(',').map((s) => s.trim());
  for (const d of list) if (!DRIVERS.includes(d as Driver)) throw new Error(`BENCH_DRIVERS: unknown driver "${d}" (${DRIVERS.join(', ')})`);
  if (list.includes('postgres') && !process.env.DATABASE_URL) throw new Error('BENCH_DRIVERS lists postgres but DATABASE_URL is not set');
  return list as Driver[];
}

/** A fresh database on the DATABASE_URL server (as test/helpers/test-env.ts does), and how to drop it. */
export async function createPgDatabase(base: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `td_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface BenchServer {
  server: RunningServer;
  url: string;
  driver: Driver;
  /** Idempotent; also registered in `cleanups`. */
  close(): Promise<void>;
}

let built = false;
/**
 * The server as `npm start` runs it: dist/, built from src/ once per bench process (about a second).
 * Running src/ through tsx instead would measure tsx's transform too (its keepNames wraps every
 * closure in a naming call), which no user runs.
 */
async function builtModules() {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (!built) {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
    built = true;
  }
  const dist = (p: string) => new URL(`../../dist/${p}`, import.meta.url).href;
  const [server, logger, config]: [typeof import('../../src/app/server.js'), typeof import('../../src/core/logger.js'), typeof import('../../src/core/config.js')] = await Promise.all([
    import(dist('app/server.js')),
    import(dist('core/logger.js')),
    import(dist('core/config.js')),
  ]);
  return { startServer: server.startServer, createLogger: logger.createLogger, loadConfig: config.loadConfig };
}

/**
 * The real server (startServer from dist/app/server.js, see builtModules) on port 0 with API_USERNAME/API_PASSWORD, a fresh
 * DATA_DIR and, for `postgres`, a database created for this run and dropped by the cleanups. With
 * `fallbackToDatabaseUrl`, a failure to create that database uses the DATABASE_URL database itself.
 */
export async function startBenchServer(driver: Driver, cleanups: Array<() => Promise<void>>, opts: { fallbackToDatabaseUrl?: boolean } = {}): Promise<BenchServer> {
  const { startServer, createLogger, loadConfig } = await builtModules();
  const dataDir = mkdtempSync(join(tmpdir(), `td-bench-${driver}-`));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  let databaseUrl: string | undefined;
  if (driver === 'postgres') {
    const base = process.env.DATABASE_URL!;
    try {
      const made = await createPgDatabase(base);
      databaseUrl = made.url;
      cleanups.push(made.drop);
    } catch (err) {
      if (!opts.fallbackToDatabaseUrl) throw err;
      log(`  (cannot create a private database, ${(err as Error).message}; using DATABASE_URL itself)\n`);
      databaseUrl = base;
    }
  }
  // Defaults from loadConfig (so settings added later get their defaults) from a clean environment
  // rather than this shell's; then port 0 for the HTTP server and the embedded MQTT broker.
  const config: Config = {
    ...loadConfig({
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      EMBEDDED_DATABASE: driver === 'pglite' ? 'pglite' : 'postgres',
      API_USERNAME: USER,
      API_PASSWORD: PASSWORD,
      VAULT_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
    }),
    port: 0,
    mqttPort: 0,
  };
  const t0 = performance.now();
  const server = await startServer(config, createLogger('silent'));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  cleanups.push(close);
  log(`${driver}: server up in ${Math.round(performance.now() - t0)} ms (${server.services.database.kind})\n`);
  return { server, url: server.url, driver, close };
}

/** One JSON call with the bench credentials (setup and checks only, never measured). */
export async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: AUTH };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Large paper balances on sim for master_account, so that small orders never run out of funds. */
export async function fundMasterAccount(url: string): Promise<void> {
  const r = await api(url, 'PUT', '/accounts/master_account', { connectors: [{ connector_name: 'sim', paper_balances: BENCH_BALANCES }] });
  if (r.status !== 200) throw new Error(`PUT /accounts/master_account answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
}

/** Paper balances every bench account gets on sim: enough that small orders never run out. */
export const BENCH_BALANCES = { USDT: '100000000', BTC: '1000' };

/** A new account attached to sim with BENCH_BALANCES, as master_account gets them. */
export async function createFundedAccount(url: string, name: string): Promise<void> {
  const r = await api(url, 'POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim', paper_balances: BENCH_BALANCES }] });
  if (r.status !== 201) throw new Error(`POST /accounts ${name} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
}

/** The body of one small market order on sim BTC-USDT. */
export const orderBody = (side: 'buy' | 'sell', clientOrderId: string, account = 'master_account') => ({
  account_name: account,
  connector_name: 'sim',
  trading_pair: 'BTC-USDT',
  side,
  order_type: 'market' as const,
  amount: '0.001',
  client_order_id: clientOrderId,
});

// ---------------------------------------------------------------------------------------------------
// The forked client process: the same script, run with BENCH_ROLE=client, answering requests over IPC

export interface ClientReply {
  id: number;
  /** CPU the client process used while handling the request, in cores. */
  cpuCores: number;
  error?: string;
}

/**
 * Forks `scriptUrl` (import.meta.url of the benchmark) with BENCH_ROLE=client and the same loader
 * flags (tsx) as this process; `call` sends one request and resolves with the child's reply.
 */
export class ClientProcess {
  #child: ChildProcess;
  #next = 1;
  #pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();

  constructor(scriptUrl: string, env: Record<string, string> = {}) {
    this.#child = fork(fileURLToPath(scriptUrl), [], { env: { ...process.env, ...env, BENCH_ROLE: 'client' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: ClientReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error) p.reject(new Error(`client: ${m.error}`));
      else p.resolve(m);
    });
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`client process exited (${code})`));
      this.#pending.clear();
    });
  }

  call<Req extends object, Res extends ClientReply>(req: Req): Promise<Res> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ ...req, id });
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return;
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.#child.send({ exit: true });
    await Promise.race([exited, sleep(3000).then(() => void this.#child.kill())]);
  }
}

/** Child side: handles each request with `handler` (one at a time) and replies with its CPU use. */
export function serveClient<Req extends { id: number }>(handler: (req: Req) => Promise<Record<string, unknown>>): void {
  let chain = Promise.resolve();
  process.on('message', (msg: Req | { exit: true }) => {
    if ('exit' in msg) {
      process.disconnect();
      return;
    }
    chain = chain.then(async () => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      try {
        const out = await handler(msg);
        const cpu = process.cpuUsage(cpu0);
        process.send!({ ...out, id: msg.id, cpuCores: (cpu.user + cpu.system) / 1000 / (performance.now() - t0) });
      } catch (err) {
        process.send!({ id: msg.id, cpuCores: 0, error: (err as Error).stack ?? String(err) });
      }
    });
  });
}

/** Runs the benchmark's main with the cleanups run in reverse order whatever happens; exits 0 or 1. */
export async function runMain(body: (cleanups: Array<() => Promise<void>>) => Promise<void>): Promise<never> {
  const cleanups: Array<() => Promise<void>> = [];
  let code = 0;
  try {
    await body(cleanups);
  } catch (err) {
    log(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    code = 1;
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => log(`cleanup: ${(err as Error).message}\n`));
  }
  process.exit(code);
}
