import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh temporary DATA_DIR. Mode 0711: as root the embedded Postgres runs as the `postgres` user,
 * which must be able to enter it (the server does this itself too; tests should not depend on it).
 */
export function tempDataDir(prefix = 'td-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711);
  return dir;
}
