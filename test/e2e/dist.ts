import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { freePort } from '../helpers/free-port.js';

/** The repository root and the built CLI entry. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'dist', 'main.js');

/** The newest modification time of any file under `dir` (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** dist/main.js exists and is newer than every source and prompt file it is built from or reads. */
export function distIsFresh(): boolean {
  if (!existsSync(MAIN)) return false;
  return statSync(MAIN).mtimeMs >= Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'prompts')));
}

/**
 * `npm test` builds before running; a bare `vitest run` may find no dist/, or one built from older
 * sources, and would then test an old CLI. Rebuilds when dist/main.js is missing or older than anything
 * under src/ or prompts/, holding a lock directory so that two test files starting together do not
 * build over each other (the build empties dist/ first), and re-checking under the lock so that only
 * the first of them builds.
 */
export async function ensureBuilt(): Promise<string> {
  const lock = join(tmpdir(), `tradedesk-build-${createHash('sha1').update(ROOT).digest('hex').slice(0, 10)}.lock`);
  if (distIsFresh() && !existsSync(lock)) return MAIN;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is building; a lock older than two minutes is left over from a crash.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      if (!distIsFresh()) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
      return MAIN;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error('timed out waiting for another test file to build dist/');
}

/** The environment for a spawned CLI: this process's, minus every setting the CLI reads. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const ours = /^(PORT|HOST|DATA_DIR|DATABASE_URL|EMBEDDED_DATABASE|MQTT_URL|MQTT_PORT|API_USERNAME|API_PASSWORD|VAULT_KEY|LOG_LEVEL|TOOLSETS|READ_ONLY|MCP_ALLOWED_HOSTS|MCP_ALLOWED_ORIGINS|MCP_PRINCIPAL|SIM_SEED|PORTFOLIO_SNAPSHOT_MINUTES|EXECUTOR_INTERVAL_MS|STRATEGIES_DIR|OPTIMIZATION_QUEUE|OPTIMIZATION_BATCH_TIMEOUT_SECONDS)$/;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ours.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A `tradedesk serve` child process and where it listens. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * Starts `node dist/main.js serve` with `env` over a clean environment, on free HTTP and MQTT ports,
 * and waits until /health answers; fails with its output when it exits or is not ready within 60 s.
 */
export async function startServeProcess(env: Record<string, string>, logLevel = 'warn'): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve'], { env: cleanEnv({ PORT: String(port), HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), LOG_LEVEL: logLevel, ...env }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`tradedesk serve exited with ${exited} before it was ready: ${out}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { child, url, output: () => out };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`tradedesk serve did not become ready in 60 s: ${out}`);
}

/** SIGKILL: no shutdown hook runs, as in a crash or a power cut. */
export async function crash(p: { child: ChildProcess }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
  process.kill(p.child.pid!, 'SIGKILL');
  await gone;
}
