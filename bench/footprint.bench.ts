/**
 * The footprint of a start: time from spawning `node dist/main.js serve` to a 200 from /health, the
 * peak and the idle memory of everything that start runs (the node process and its children, initdb
 * and the embedded Postgres processes included, and an orphaned postmaster it reuses), as PSS so that
 * shared memory is counted once.
 *
 *   npm run build && npx tsx bench/footprint.bench.ts
 *   DATABASE_URL=... npx tsx bench/footprint.bench.ts       # adds server mode (external Postgres)
 *   BENCH_PGLITE=0 ...                                       # skips the PGlite driver (the "before")
 *   BENCH_IDLE_MS=5000                                       # how long after /health idle is measured
 *
 * Runs: the embedded Postgres (first start on an empty DATA_DIR, then a restart), PGlite
 * (EMBEDDED_DATABASE=pglite, the earlier default, same two), and server mode when DATABASE_URL is set.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateDatabase } from '../test/helpers/config.js';
import { freePort } from '../test/helpers/free-port.js';
import { goal, goalJson, printGoals } from './lib/goals.js';
import { printTable } from './lib/harness.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist', 'main.js');
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
const WITH_PGLITE = process.env.BENCH_PGLITE !== '0';

interface Figures {
  run: string;
  toHealthMs: number;
  peakMb: number;
  idleMb: number;
  /** The node process alone at idle. */
  nodeIdleMb: number;
  processes: number;
}

/** pid → ppid for every process. */
function processTable(): Map<number, number> {
  const t = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      t.set(Number(name), ppid);
    } catch {
      /* gone */
    }
  }
  return t;
}

/** Proportional set size in MB (resident size where smaps_rollup is not readable). */
function pssMb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* fall through */
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The node process, its descendants, and the embedded postmaster with its children (a reused orphan is not a descendant). */
function tree(root: number, dataDir: string): number[] {
  const table = processTable();
  const roots = [root];
  try {
    const pm = Number(readFileSync(join(dataDir, 'pg', 'cluster', 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pm > 0) roots.push(pm);
  } catch {
    /* no embedded Postgres running */
  }
  const out = new Set<number>();
  const add = (pid: number) => {
    if (out.has(pid) || !table.has(pid)) return;
    out.add(pid);
    for (const [p, pp] of table) if (pp === pid) add(p);
  };
  for (const r of roots) add(r);
  return [...out];
}

const total = (pids: number[]) => pids.reduce((s, p) => s + pssMb(p), 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(run: string, dataDir: string, env: Record<string, string>): Promise<{ figures: Figures; stop(): Promise<void> }> {
  const port = await freePort();
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DATABASE_URL|API_USERNAME|API_PASSWORD|EMBEDDED_DATABASE|DATA_DIR|PORT)$/.test(k)) clean[k] = v;
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN, 'serve'], { env: { ...clean, DATA_DIR: dataDir, PORT: String(port), MQTT_PORT: String(await freePort()), LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, total(tree(child.pid!, dataDir)));
      await sleep(50);
    }
  })();
  let toHealthMs = NaN;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${run}: serve exited with ${child.exitCode}: ${err}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) {
        toHealthMs = performance.now() - t0;
        break;
      }
    } catch {
      /* not yet */
    }
    await sleep(20);
  }
  if (!Number.isFinite(toHealthMs)) throw new Error(`${run}: no /health within 120 s: ${err}`);
  await sleep(Math.max(0, IDLE_MS - 2000));
  const idle: number[] = [];
  const nodeIdle: number[] = [];
  let processes = 0;
  for (let i = 0; i < 10; i++) {
    const pids = tree(child.pid!, dataDir);
    processes = pids.length;
    idle.push(total(pids));
    nodeIdle.push(pssMb(child.pid!));
    await sleep(200);
  }
  sampling = false;
  await sampler;
  const figures: Figures = { run, toHealthMs, peakMb: Math.max(peak, ...idle), idleMb: median(idle), nodeIdleMb: median(nodeIdle), processes };
  return {
    figures,
    stop: async () => {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
      // The last one out stops the embedded Postgres: wait for it, so the next run starts cold.
      const pidFile = join(dataDir, 'pg', 'cluster', 'postmaster.pid');
      for (let i = 0; i < 300 && existsSync(pidFile); i++) await sleep(50);
    },
  };
}

async function startAndRestart(label: string, env: Record<string, string>): Promise<Figures[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'td-bench-footprint-'));
  try {
    const first = await measure(`${label} first start`, dataDir, env);
    await first.stop();
    const again = await measure(`${label} restart`, dataDir, env);
    await again.stop();
    return [first.figures, again.figures];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const rows: Figures[] = [];
  rows.push(...(await startAndRestart('embedded postgres', {})));
  if (WITH_PGLITE) rows.push(...(await startAndRestart('pglite', { EMBEDDED_DATABASE: 'pglite' })));
  if (process.env.DATABASE_URL) {
    const db = await privateDatabase(process.env.DATABASE_URL, 'td_bench');
    const dataDir = mkdtempSync(join(tmpdir(), 'td-bench-footprint-'));
    try {
      const env = { DATABASE_URL: db.url, API_USERNAME: 'bench', API_PASSWORD: 'bench-password-123' };
      const first = await measure('server mode first start', dataDir, env);
      await first.stop();
      const again = await measure('server mode restart', dataDir, env);
      await again.stop();
      rows.push(first.figures, again.figures);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
  console.log(`\nfootprint of a start (PSS of every process it runs; idle measured ${IDLE_MS / 1000} s after /health)\n`);
  printTable(
    ['run', 'to /health ms', 'peak MB', 'idle MB', 'node idle MB', 'processes'],
    rows.map((r) => [r.run, f(r.toHealthMs), f(r.peakMb), f(r.idleMb), f(r.nodeIdleMb), String(r.processes)]),
  );
  const by = (run: string) => rows.find((r) => r.run === run);
  const first = by('embedded postgres first start')!;
  const restart = by('embedded postgres restart')!;
  const server = by('server mode restart');
  const goals = [
    goal('embedded first start to /health (ms)', first.toHealthMs, '<=', 2000, ''),
    goal('embedded first start peak (MB)', first.peakMb, '<=', 300, ''),
    goal('embedded first start idle (MB)', first.idleMb, '<=', 200, ''),
    goal('embedded restart idle (MB)', restart.idleMb, '<=', 200, ''),
    goal('server mode idle (MB)', server?.idleMb ?? NaN, '<=', 100, '', server ? undefined : 'DATABASE_URL not set'),
  ];
  console.log('');
  printGoals('goal', goals);
  console.log(`\n${JSON.stringify({ footprint: rows, goals: goals.map(goalJson) })}`);
}

await main();
