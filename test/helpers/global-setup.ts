import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/db/client.js';

/**
 * A fresh PGlite cluster takes seconds to initialise; one migrated template is made here and each test
 * copies it (see test-env.ts). It also checks the services CI promises, so a missing one fails loudly.
 */
export default async function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'td-pg-template-'));
  const db = await openDatabase({ dataDir: join(dir, 'pg') });
  await db.close();
  provide('pgliteTemplate', join(dir, 'pg'));
  if (process.env.REQUIRE_SERVICES === '1') {
    for (const v of ['DATABASE_URL', 'MQTT_URL']) {
      if (!process.env[v]) throw new Error(`REQUIRE_SERVICES=1 but ${v} is not set: run scripts/services.sh first`);
    }
  }
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}
