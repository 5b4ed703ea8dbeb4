import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/dist.js';

const run = promisify(execFile);

/**
 * scripts/services.sh must look after the cluster that serves its port, not any cluster that happens to
 * be online. The machine's clusters must not be touched by a test, so the Debian cluster tools it calls
 * are replaced by stand-ins on PATH that record their calls and play a machine with two clusters.
 */
describe('scripts/services.sh', () => {
  let mqtt: Server;
  let mqttPort: number;

  beforeAll(async () => {
    // Something listening on the MQTT port, so the script leaves the broker alone.
    mqtt = createServer((s) => s.end());
    await new Promise<void>((r) => mqtt.listen(0, '127.0.0.1', () => r()));
    mqttPort = (mqtt.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => mqtt.close(() => r())));

  /** Runs the script against stand-in tools; `clusters` is what pg_lsclusters prints, the one on `onlinePort` answers. */
  async function runScript(clusters: string, pgPort: number, onlinePort = 5432) {
    const dir = mkdtempSync(join(tmpdir(), 'td-services-'));
    const calls = join(dir, 'calls.log');
    const started = join(dir, 'started');
    const stub = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> ${calls}\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    stub('pg_lsclusters', `cat <<'EOF'\n${clusters}\nEOF`);
    stub('pg_ctlcluster', `touch ${started}`);
    stub('pg_createcluster', '');
    // The online cluster's port answers; any other only once something started a cluster.
    stub('pg_isready', `case " $* " in *" -p ${onlinePort} "*) exit 0 ;; esac\n[ -e ${started} ]`);
    stub('su', `case "$*" in *"SELECT 1"*) echo 1 ;; esac`);
    stub('mosquitto', '');
    try {
      const out = await run('bash', [join(ROOT, 'scripts', 'services.sh')], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, PG_PORT: String(pgPort), MQTT_TEST_PORT: String(mqttPort) },
        timeout: 60_000,
      }).catch((err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: err.stdout ?? '', stderr: `${err.stderr ?? ''} (exit ${err.code})`, failed: true }));
      return { ...out, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [] };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('starts the cluster on its port even when another cluster is online', async () => {
    const r = await runScript(
      ['15 main  5432 online postgres /var/lib/postgresql/15/main  /var/log/postgresql/postgresql-15-main.log', '15 other 5499 down   postgres /var/lib/postgresql/15/other /var/log/postgresql/postgresql-15-other.log'].join('\n'),
      5499,
    );
    expect('failed' in r, r.stderr).toBe(false);
    expect(r.calls).toContain('pg_ctlcluster 15 other start');
    expect(r.calls.filter((c) => c.startsWith('pg_ctlcluster'))).toEqual(['pg_ctlcluster 15 other start']);
    // Roles and databases are made on that cluster too.
    const psql = r.calls.filter((c) => c.startsWith('su '));
    expect(psql.length).toBeGreaterThan(0);
    for (const c of psql) expect(c).toMatch(/ -p 5499 /);
    expect(r.stdout).toContain('DATABASE_URL=postgres://tradedesk:tradedesk@127.0.0.1:5499/tradedesk_test');
  });

  it('leaves the cluster on its port alone when it is online, and starts no other', async () => {
    const r = await runScript(['15 other 5499 down postgres /x /y', '15 main 5432 online postgres /a /b'].join('\n'), 5432);
    expect('failed' in r, r.stderr).toBe(false);
    expect(r.calls.filter((c) => c.startsWith('pg_ctlcluster') || c.startsWith('pg_createcluster'))).toEqual([]);
    for (const c of r.calls.filter((x) => x.startsWith('su '))) expect(c).toMatch(/ -p 5432 /);
  });
});
