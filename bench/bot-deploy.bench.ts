/**
 * Deploy to running: how long `bots.deploy` (src/core/bots/orchestrator.ts, wired by createServices as
 * the server wires it: embedded broker, ServerLink, ingest, child and docker runtimes, Postgres) takes
 * from the call until the bot said it is online, against starting a bare process (or container) that
 * prints one line, in the same run.
 *
 *   DATABASE_URL=... npx tsx bench/bot-deploy.bench.ts                       # npm run bench:bot-deploy
 *   DATABASE_URL=... DOCKER_AVAILABLE=1 npx tsx bench/bot-deploy.bench.ts    # and the docker runtime
 *
 * - `child`: a deploy on the child runtime of the built `node dist/main.js bot` (dist/ is built first
 *   when older than src/), with pmm_simple's example config on master_account. Includes issuing the
 *   bot's broker login (one scrypt), the bot's start (node, the strategy engine), its CONNECT (one
 *   scrypt check in the broker), its subscriptions and its `online` reaching the ingest.
 *   Baseline: `spawn(process.execPath, [script])` where the script prints one line; timed until the
 *   line is read.
 * - `docker` (DOCKER_AVAILABLE=1 and a daemon answering): the same deploy on the docker runtime, with
 *   the bot image built by scripts/build-image.mjs under its own tag (BENCH_IMAGE, default
 *   tradedesk:bench, so tradedesk:local that the tests use is never rebuilt under them). Baseline:
 *   `docker run -i --rm --network host --entrypoint /usr/bin/node <image> -e <script>`, the same
 *   script as the bare child, timed until its line is read from the CLI. A container's CPU is read
 *   from its cgroup; dockerd's and containerd's from /proc.
 *
 * Each round runs a deploy and its baseline back to back (the order alternating), after one untimed
 * round; every bot is stopped and archived before the next round. Medians over BENCH_RUNS rounds.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createServices, type Services } from '../src/app/services.js';
import { BOT_LABEL, containerName, MANAGED_LABEL } from '../src/core/bots/docker-runtime.js';
import type { BotStrategy } from '../src/core/db/schema/index.js';
import { createLogger } from '../src/core/logger.js';
import { ensureBuilt, ROOT } from '../test/e2e/dist.js';
import { privateDatabase, testConfig } from '../test/helpers/config.js';
import { dockerAnswers } from '../test/helpers/docker.js';
import { fmt, intEnv, log, machineCpu, printTable, ratio, round, runMain, summarize } from './lib/harness.js';
import { childPids, procCpuUs } from './lib/proc-cpu.js';

const RUNS = Math.round(intEnv('BENCH_RUNS', 7));
const IMAGE = process.env.BENCH_IMAGE ?? 'tradedesk:bench';
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };
/** The bare process: prints its line, then lives until its stdin closes, so its CPU can be read once the line is in. */
const READY_SCRIPT = "process.stdout.write('ready\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
/** The run's bot ids start with it, so the cleanup touches no other container. */
const RUN = `d${randomBytes(3).toString('hex')}`;

/** One timed operation: wall time, this process's CPU, the started process's CPU until ready, the daemons' CPU, and the rest of the machine. */
interface Op {
  ms: number;
  serverUs: number;
  /** The bot's (or bare process's or container's) own CPU until it was ready; NaN when not readable. */
  childUs: number;
  /** dockerd and containerd, for docker operations; 0 otherwise. */
  daemonUs: number;
  /** Cores the rest of the machine used meanwhile (10 ms resolution: read as a median). */
  otherCores: number;
}

/** The pids of the processes named `names` (dockerd, containerd), for their CPU. */
function pidsNamed(names: string[]): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${p}/comm`, 'utf8').trim())) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}
const sumCpu = (pids: number[]) => pids.reduce((s, p) => s + (procCpuUs(p) ?? 0), 0);

async function measure(fn: () => Promise<{ childUs?: number }>, daemons: number[] = []): Promise<Op> {
  const m0 = machineCpu();
  const d0 = sumCpu(daemons);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const daemonUs = sumCpu(daemons) - d0;
  const m1 = machineCpu();
  const serverUs = c.user + c.system;
  const childUs = r.childUs ?? NaN;
  const ours = (serverUs + (Number.isFinite(childUs) ? childUs : 0) + daemonUs) / 1000;
  return { ms, serverUs, childUs, daemonUs, otherCores: Math.max(0, (m1.busy - m0.busy - ours) / ms) };
}

/**
 * CPU time of a running container in µs, from its cgroup (v1 cpuacct or v2 cpu.stat, under the
 * cgroupfs or systemd driver's paths); NaN when none is found.
 */
function containerCpuUs(id: string): number {
  const v1 = [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, `/sys/fs/cgroup/cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`];
  for (const f of v1) {
    try {
      return Number(readFileSync(f, 'utf8').trim()) / 1000;
    } catch {
      /* not this layout */
    }
  }
  for (const f of [`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, `/sys/fs/cgroup/docker/${id}/cpu.stat`]) {
    try {
      const m = /usage_usec (\d+)/.exec(readFileSync(f, 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      /* not this layout */
    }
  }
  return NaN;
}

/** The new child of this process since `before` (the bot the child runtime just spawned). */
const newChild = (before: number[]) => childPids().find((p) => !before.includes(p));

/** Spawns `cmd` and resolves once it printed a line, with the process (still running, or ended). */
function untilLine(cmd: string, args: string[], line: string): Promise<{ pid: number; end: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`${line}\n`)) {
        resolve({
          pid: child.pid!,
          end: async () => {
            child.stdin!.end();
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000)).then(() => void child.kill('SIGKILL'))]);
          },
        });
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!out.includes(`${line}\n`)) reject(new Error(`${cmd} exited with ${code} before printing ${line}: ${err.slice(-500)}`));
    });
  });
}

interface Series {
  name: string;
  ops: Op[];
}

const median = (ops: Op[], f: (o: Op) => number) => summarize(ops.map(f).filter(Number.isFinite)).p50;

async function main(cleanups: Array<() => Promise<void>>): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('bot-deploy: skipped (DATABASE_URL is not set; the bots store is in Postgres)');
    return;
  }
  log('building dist/ if it is older than src/\n');
  const mainJs = await ensureBuilt();

  // Docker only when asked for and answering, with an image of this tree.
  let docker: Docker | undefined;
  let dockerSkip = '';
  if (process.env.DOCKER_AVAILABLE !== '1') dockerSkip = 'DOCKER_AVAILABLE is not 1';
  else if (!(await dockerAnswers())) dockerSkip = 'no Docker daemon answers';
  else {
    try {
      const t0 = performance.now();
      log(`building the bot image ${IMAGE} (reused while its inputs are unchanged)\n`);
      const line = execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-image.mjs'), '--tag', IMAGE], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      log(`  ${line.trim()} (${fmt((performance.now() - t0) / 1000, 1)} s)\n`);
      docker = new Docker();
    } catch (err) {
      dockerSkip = `the bot image could not be built: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  if (docker) {
    const d = docker;
    cleanups.push(async () => {
      const ours = await d.listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`] } });
      for (const c of ours.filter((c) => c.Labels[BOT_LABEL]?.startsWith(`${RUN}-`))) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    });
  }

  const made = await privateDatabase(process.env.DATABASE_URL, 'td_bench');
  cleanups.push(made.drop);
  const dataDir = mkdtempSync(join(tmpdir(), 'td-bench-deploy-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const config = testConfig({ dataDir, databaseUrl: made.url, admin: { username: 'admin', password: 'bench-admin-password' } });
  let services: Services | undefined;
  const opened = await createServices(config, createLogger('silent'), {
    bots: { command: [process.execPath, mainJs, 'bot'], image: IMAGE, ...(docker ? {} : { runtimes: { docker: undefined } }) },
  });
  services = opened.services;
  cleanups.push(async () => services?.close());
  const example = services.strategies.get('controller', 'pmm_simple')!.example!.config;
  const strategy: BotStrategy = { controllers: [{ controller_name: 'pmm_simple', config: example }] };
  const script = join(dataDir, 'ready.mjs');
  writeFileSync(script, `${READY_SCRIPT}\n`);

  let seq = 0;
  const deployChild = async (): Promise<Op> => {
    const id = `${RUN}-child-${++seq}`;
    const before = childPids();
    const op = await measure(async () => {
      const row = await services!.bots.deploy({ id, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy });
      if (row.observedState !== 'running') throw new Error(`bot ${id} is ${row.observedState} after its deploy`);
      const pid = newChild(before);
      return { childUs: pid === undefined ? NaN : procCpuUs(pid) };
    });
    await services!.bots.archive(id);
    return op;
  };
  const bareSpawn = async (): Promise<Op> => {
    let end: () => Promise<void> = async () => {};
    const op = await measure(async () => {
      const r = await untilLine(process.execPath, [script], 'ready');
      end = r.end;
      return { childUs: procCpuUs(r.pid) };
    });
    await end();
    return op;
  };
  const daemons = docker ? pidsNamed(['dockerd', 'containerd']) : [];
  const deployDocker = async (): Promise<Op> => {
    const id = `${RUN}-docker-${++seq}`;
    const op = await measure(async () => {
      const row = await services!.bots.deploy({ id, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'docker', strategy });
      if (row.observedState !== 'running') throw new Error(`bot ${id} is ${row.observedState} after its deploy`);
      return {};
    }, daemons);
    // Read just after the measurement (the lookup is not the deploy's work): the bot idles meanwhile.
    const info = await docker!.getContainer(containerName(id)).inspect();
    op.childUs = containerCpuUs(info.Id);
    await services!.bots.archive(id);
    return op;
  };
  const bareDocker = async (): Promise<Op> => {
    let end: () => Promise<void> = async () => {};
    const cidFile = join(dataDir, `cid-${++seq}`);
    const op = await measure(async () => {
      // -i: the container lives until its stdin closes, as the bare child does, so its CPU can be read.
      const r = await untilLine('docker', ['run', '-i', '--rm', '--cidfile', cidFile, '--network', 'host', '--entrypoint', '/usr/bin/node', IMAGE, '-e', READY_SCRIPT], 'ready');
      end = r.end;
      return { childUs: containerCpuUs(readFileSync(cidFile, 'utf8').trim()) };
    }, daemons);
    await end();
    return op;
  };

  const pairs: Array<[Series, () => Promise<Op>, Series, () => Promise<Op>]> = [[{ name: 'child: deploy → running', ops: [] }, deployChild, { name: 'bare spawn(node, script) → line', ops: [] }, bareSpawn]];
  if (docker) pairs.push([{ name: 'docker: deploy → running', ops: [] }, deployDocker, { name: 'bare docker run → line', ops: [] }, bareDocker]);

  for (const [a, runA, b, runB] of pairs) {
    log(`${a.name}: one untimed round, then ${RUNS}\n`);
    await runA();
    await runB();
    for (let i = 0; i < RUNS; i++) {
      // Alternating who goes first, so a drift of the machine's speed hits both alike.
      if (i % 2 === 0) {
        a.ops.push(await runA());
        b.ops.push(await runB());
      } else {
        b.ops.push(await runB());
        a.ops.push(await runA());
      }
      log(`  round ${i + 1}: ${fmt(a.ops.at(-1)!.ms, 0)} ms vs ${fmt(b.ops.at(-1)!.ms, 0)} ms\n`);
    }
  }

  const row = (s: Series) => {
    const ms = summarize(s.ops.map((o) => o.ms));
    return {
      name: s.name,
      p50: ms.p50,
      min: Math.min(...s.ops.map((o) => o.ms)),
      max: ms.max,
      serverMs: median(s.ops, (o) => o.serverUs) / 1000,
      childMs: median(s.ops, (o) => o.childUs) / 1000,
      daemonMs: median(s.ops, (o) => o.daemonUs) / 1000,
      other: median(s.ops, (o) => o.otherCores),
    };
  };
  const rows = pairs.flatMap(([a, , b]) => [row(a), row(b)]);
  console.log(`\nbot-deploy: medians over ${RUNS} rounds (after one untimed round)${docker ? '' : `; docker skipped: ${dockerSkip}`}\n`);
  printTable(
    ['what', 'p50 ms', 'min', 'max', 'srv cpu ms', 'proc cpu ms', 'daemon cpu ms', 'other cores'],
    rows.map((r) => [r.name, fmt(r.p50, 0), fmt(r.min, 0), fmt(r.max, 0), fmt(r.serverMs, 1), Number.isFinite(r.childMs) ? fmt(r.childMs, 1) : '-', r.daemonMs ? fmt(r.daemonMs, 1) : '-', fmt(r.other)]),
  );
  console.log('\nratios deploy / bare, same run (p50)');
  const ratios: Record<string, number | null> = {};
  const ratioRows: string[][] = [];
  for (const [a, , b] of pairs) {
    const ra = row(a);
    const rb = row(b);
    const key = a.name.split(':')[0]!;
    ratios[key] = round(ratio(ra.p50, rb.p50));
    ratioRows.push([key, fmt(ratio(ra.p50, rb.p50)), `${fmt(ra.p50, 0)} / ${fmt(rb.p50, 0)} ms`]);
  }
  printTable(['runtime', 'time', 'from'], ratioRows);
  const warnings = rows.filter((r) => r.other > 0.25).map((r) => `${r.name}: other processes used ${fmt(r.other)} cores (median) during the operations; times are disturbed, CPU figures hold better`);
  if (!docker) warnings.push(`docker skipped: ${dockerSkip}`);
  for (const w of warnings) console.log(`warning: ${w}`);
  console.log(
    `RESULT ${JSON.stringify({
      runs: RUNS,
      rows: rows.map((r) => ({ what: r.name, p50_ms: round(r.p50, 1), min_ms: round(r.min, 1), max_ms: round(r.max, 1), server_cpu_ms: round(r.serverMs, 2), process_cpu_ms: round(r.childMs, 2), daemon_cpu_ms: round(r.daemonMs, 2), other_cores: round(r.other) })),
      ratios,
      docker: docker ? IMAGE : null,
      warnings,
    })}`,
  );
}

await runMain(main);
