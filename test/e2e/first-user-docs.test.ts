import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARS } from '../../src/core/config.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';

describe.each(drivers())('what a first-time user is told on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver);
  });
  afterAll(async () => s?.stop());

  it('/docs and /openapi.json without credentials: 401 with the browser prompt and a hint about where the password is', async () => {
    for (const path of ['/docs', '/docs/', '/openapi.json']) {
      const r = await s.call('GET', path, undefined, null);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(r.body.error.hint, path).toMatch(/browser asks for them/);
      expect(r.body.error.hint).toMatch(/admin-password\.txt/);
    }
    // An API route keeps the API hint, which names the recovery command.
    expect((await s.call('GET', '/accounts', undefined, null)).body.error.hint).toMatch(/reset-admin-password/);
  });
});

describe('--help and the settings', () => {
  it('says what the MQTT settings choose, mentions no bot files; lists the recovery command, MCP_ALLOWED_ORIGINS and the docs auth', async () => {
    await ensureBuilt();
    const r = spawnSync(process.execPath, [MAIN, '--help'], { env: cleanEnv({}), cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const help = r.stderr;
    expect(help).not.toMatch(/bot files/);
    for (const v of ['MQTT_URL', 'MQTT_PORT']) expect(help.split('\n').find((l) => l.includes(` ${v} `)), v).toMatch(/MQTT broker for bots/);
    expect(help).not.toMatch(/not deployable/);
    expect(help).toMatch(/MQTT_PORT and MQTT_URL choose the broker bots\s+use/);
    expect(help).toMatch(/reset-admin-password \[--username admin\]/);
    expect(help).toMatch(/--mcp-allowed-origins/);
    expect(help).toMatch(/\/docs and \/openapi\.json included/);
    expect(help).toMatch(/admin-password\.txt/);
  });

  it('describes MQTT_URL as the external broker and MQTT_PORT as the embedded one', () => {
    expect(CONFIG_VARS.MQTT_URL.describe).toMatch(/^External MQTT broker for bots.*dynamic-security/);
    expect(CONFIG_VARS.MQTT_PORT.describe).toMatch(/^Port of the embedded MQTT broker for bots on 127\.0\.0\.1/);
    for (const v of ['MQTT_URL', 'MQTT_PORT'] as const) expect(CONFIG_VARS[v].describe).not.toMatch(/not deployable/);
    expect(CONFIG_VARS.DATA_DIR.describe).not.toMatch(/bot/);
  });
});
