import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

/** The repository root and the built CLI entry. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'dist', 'main.js');

/**
 * `npm test` builds before running; a bare `vitest run` may find no dist/. Builds once when dist/main.js
 * is missing, with a lock directory so two test files starting together do not build over each other.
 */
export async function ensureBuilt(): Promise<string> {
  if (existsSync(MAIN)) return MAIN;
  const lock = join(tmpdir(), `tradedesk-build-${createHash('sha1').update(ROOT).digest('hex').slice(0, 10)}.lock`);
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
      if (existsSync(MAIN) && !existsSync(lock)) return MAIN;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      if (!existsSync(MAIN)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
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
  const ours = /^(PORT|HOST|DATA_DIR|DATABASE_URL|MQTT_URL|MQTT_PORT|API_USERNAME|API_PASSWORD|VAULT_KEY|LOG_LEVEL|TOOLSETS|READ_ONLY|MCP_ALLOWED_HOSTS|MCP_ALLOWED_ORIGINS|MCP_PRINCIPAL|SIM_SEED|PORTFOLIO_SNAPSHOT_MINUTES)$/;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ours.test(k)) env[k] = v;
  return { ...env, ...extra };
}
