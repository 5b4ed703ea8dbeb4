import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type { Logger } from '../logger.js';
import { attachEmbeddedPostgres, CREDENTIALS_FILE, isPgliteDataDir, type EmbeddedPostgres } from './embedded-postgres.js';

/**
 * A first start spends most of its time in initdb, and before that in loading the server's modules.
 * `prestartEmbedded` runs first thing in the entry point, with nothing but the arguments and the
 * environment, and starts (or attaches to) the embedded Postgres while the rest loads; `openDatabase`
 * then takes the cluster it started instead of starting one. It only acts when the arguments surely
 * mean `serve` or `mcp` on the embedded Postgres; anything unusual leaves the work to the normal path.
 */
const started = new Map<string, Promise<EmbeddedPostgres>>();
/** Data dirs whose cluster did not exist when this process prestarted it: this start is their first. */
const fresh = new Set<string>();

/** Flags that take no value (all other `--flag`s take the next argument unless written `--flag=value`). */
const BOOLEAN_FLAGS = new Set(['--read-only', '--help', '-h', '--version']);

export function prestartEmbedded(argv: string[], env: NodeJS.ProcessEnv, logger?: Logger): void {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) positionals.push(a);
    else if (a.includes('=')) flags.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    else if (BOOLEAN_FLAGS.has(a)) flags.set(a, true);
    else flags.set(a, argv[++i] ?? true);
  }
  const sub = positionals[0] ?? 'serve';
  if (positionals.length > 1 || !['serve', 'mcp'].includes(sub)) return;
  if (flags.has('--help') || flags.has('-h') || flags.has('--version') || flags.has('--database-url') || flags.has('--embedded-database')) return;
  if (env.DATABASE_URL || (env.EMBEDDED_DATABASE && env.EMBEDDED_DATABASE !== 'postgres')) return;
  const dataDir = flags.get('--data-dir');
  if (dataDir === true) return;
  const pgDir = join(resolve(dataDir || env.DATA_DIR || './data'), 'pg');
  if (isPgliteDataDir(pgDir)) return; // refused, with its message, by openDatabase
  if (!existsSync(join(pgDir, CREDENTIALS_FILE))) fresh.add(pgDir);
  const p = attachEmbeddedPostgres(pgDir, { logger });
  p.catch(() => undefined); // observed by whoever takes it
  started.set(pgDir, p);
}

/**
 * Whether the embedded cluster under `pgDir` is being created by this start (call it before the
 * database is opened). A guess that can only cost time: another process may create it first.
 */
export function isFirstStart(pgDir: string): boolean {
  const dir = resolve(pgDir);
  return fresh.has(dir) || (!started.has(dir) && !existsSync(join(dir, CREDENTIALS_FILE)));
}

/** The cluster prestarted for `pgDir`, handed over once. */
export function takePrestarted(pgDir: string): Promise<EmbeddedPostgres> | undefined {
  const p = started.get(resolve(pgDir));
  started.delete(resolve(pgDir));
  return p;
}

/** Detaches from whatever was prestarted and never taken (the start failed before opening the database). */
export async function releaseUntaken(): Promise<void> {
  const all = [...started.values()];
  started.clear();
  await Promise.all(all.map((p) => p.then((c) => c.release(), () => undefined)));
}
