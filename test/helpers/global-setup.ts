import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachEmbeddedPostgres, type EmbeddedPostgres } from '../../src/core/db/embedded-postgres.js';

/**
 * Database tests run on Postgres: the server at DATABASE_URL when it is set, else one embedded Postgres
 * started here for the whole run (the same binaries `npm start` uses), so that `npm test` works on a
 * machine without a Postgres server. Each test file still gets a database of its own on it (see
 * test-env.ts). It also checks the services CI promises, so a missing one fails loudly.
 */
export default async function setup() {
  if (process.env.REQUIRE_SERVICES === '1') {
    for (const v of ['DATABASE_URL', 'MQTT_URL']) {
      if (!process.env[v]) throw new Error(`REQUIRE_SERVICES=1 but ${v} is not set: run scripts/services.sh first`);
    }
  }
  if (process.env.DATABASE_URL) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'td-test-pg-'));
  let cluster: EmbeddedPostgres;
  try {
    cluster = await attachEmbeddedPostgres(join(dir, 'pg'), { settings: ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=400'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The workers are forked after this and inherit the environment.
  process.env.DATABASE_URL = cluster.url;
  process.env.TEST_EMBEDDED_DATABASE = '1';
  return async () => {
    await cluster.release();
    rmSync(dir, { recursive: true, force: true });
  };
}
