import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isHummingbotImage } from '../../../src/core/bots/hummingbot/image.js';
import { CONFIG_PASSWORD_FILE, writeControllers, writeInstance } from '../../../src/core/bots/hummingbot/instance.js';
import { decryptSecretValue } from '../../../src/core/bots/hummingbot/keystore.js';

/** The instance folder written for a Hummingbot container, read back and checked against the formats in hummingbot-api.md §9 and hummingbot-bot-mqtt.md. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const types: Record<string, string> = { bollinger_v1: 'directional_trading', pmm_simple: 'market_making' };
const strategy = {
  controllers: [
    { controller_name: 'bollinger_v1', config: { connector_name: 'binance', trading_pair: 'ETH-USDT', bb_length: 100, total_amount_quote: 50 } },
    { controller_name: 'bollinger_v1', config: { connector_name: 'binance', trading_pair: 'BTC-USDT', bb_length: 20, total_amount_quote: 80 } },
    { controller_name: 'pmm_simple', config: { connector_name: 'binance', trading_pair: 'SOL-USDT', buy_spreads: [0.01, 0.02] } },
  ],
};

async function written() {
  const dir = mkdtempSync(join(tmpdir(), 'hb-instance-'));
  dirs.push(dir);
  const out = await writeInstance(
    dir,
    { botId: 'hb-one', brokerUrl: 'mqtt://127.0.0.1:1884', login: { username: 'bot-hb-one', password: 'broker-pw-123' }, strategy, controllerType: (n) => types[n] ?? null, maxGlobalDrawdownQuote: 100 },
    { pbkdf2Rounds: 1000 },
  );
  return { dir, out, read: (p: string) => readFileSync(join(dir, p), 'utf8') };
}

describe('the Hummingbot instance folder', () => {
  it('tells Hummingbot images from others', () => {
    expect(['hummingbot/hummingbot:latest', 'hummingbot/hummingbot:version-2.16.0', 'ghcr.io/acme/hummingbot:dev', 'hummingbot/hummingbot', 'localhost:5000/team/hummingbot:1@sha256:' + 'a'.repeat(64)].map(isHummingbotImage)).toEqual([true, true, true, true, true]);
    expect(['tradedesk:local', 'hummingbot:latest', 'hummingbot/gateway:latest', 'acme/hummingbot-fork:1', null, undefined].map(isHummingbotImage)).toEqual([false, false, false, false, false, false]);
  });

  it('writes conf_client.yml with the bot id and the MQTT bridge on our broker with its own login', async () => {
    const { read, dir } = await written();
    const conf = parse(read('conf/conf_client.yml'));
    expect(conf).toEqual({
      instance_id: 'hb-one',
      mqtt_bridge: {
        mqtt_host: '127.0.0.1',
        mqtt_port: 1884,
        mqtt_username: 'bot-hb-one',
        mqtt_password: 'broker-pw-123',
        mqtt_namespace: 'hbot',
        mqtt_ssl: false,
        mqtt_logger: true,
        mqtt_notifier: true,
        mqtt_commands: true,
        mqtt_events: true,
        mqtt_external_events: true,
        mqtt_autostart: true,
      },
    });
    // It holds the broker password: the server's user alone reads it.
    expect(statSync(join(dir, 'conf/conf_client.yml')).mode & 0o077).toBe(0);
  });

  it('writes the v2_with_controllers script config and one controller file per controller, with id, name and type first', async () => {
    const { read, out } = await written();
    expect(out.scriptConfig).toBe('hb-one.yml');
    expect(parse(read('conf/scripts/hb-one.yml'))).toEqual({ script_file_name: 'v2_with_controllers.py', controllers_config: ['bollinger_v1_1.yml', 'bollinger_v1_2.yml', 'pmm_simple.yml'], max_global_drawdown_quote: 100 });
    const first = parse(read('conf/controllers/bollinger_v1_1.yml'));
    expect(Object.keys(first).slice(0, 3)).toEqual(['id', 'controller_name', 'controller_type']);
    expect(first).toEqual({ id: 'bollinger_v1_1', controller_name: 'bollinger_v1', controller_type: 'directional_trading', connector_name: 'binance', trading_pair: 'ETH-USDT', bb_length: 100, total_amount_quote: 50 });
    expect(parse(read('conf/controllers/pmm_simple.yml'))).toMatchObject({ id: 'pmm_simple', controller_type: 'market_making', buy_spreads: [0.01, 0.02] });
  });

  it('writes a password verification file that decrypts to "HummingBot" with the stored config password, and the empty folders', async () => {
    const { read, out, dir } = await written();
    expect(read(CONFIG_PASSWORD_FILE)).toBe(out.configPassword);
    expect(out.configPassword.length).toBeGreaterThanOrEqual(24);
    expect(await decryptSecretValue(read('conf/.password_verification'), out.configPassword)).toBe('HummingBot');
    for (const d of ['conf/connectors', 'conf/scripts', 'conf/controllers', 'data', 'logs']) expect(statSync(join(dir, d)).isDirectory()).toBe(true);
  });

  it('keeps the config password across launches and rewrites controller files on a change, dropping removed ones', async () => {
    const { dir, out, read } = await written();
    const again = await writeInstance(dir, { botId: 'hb-one', brokerUrl: 'mqtts://broker.example:8883', login: { username: 'bot-hb-one', password: 'x-123456' }, strategy, controllerType: () => null });
    expect(again.configPassword).toBe(out.configPassword);
    expect(parse(read('conf/conf_client.yml')).mqtt_bridge).toMatchObject({ mqtt_host: 'broker.example', mqtt_port: 8883, mqtt_ssl: true });
    const files = writeControllers(dir, { strategy: { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'binance', trading_pair: 'SOL-USDT', buy_spreads: [0.03] } }] }, controllerType: (n) => types[n] ?? null });
    expect(files).toEqual(['conf/controllers/pmm_simple.yml']);
    expect(readdirSync(join(dir, 'conf/controllers')).sort()).toEqual(['pmm_simple.yml']);
    expect(parse(read('conf/controllers/pmm_simple.yml')).buy_spreads).toEqual([0.03]);
  });

  it('writes the verification file again when it does not open with the config password', async () => {
    const { dir, out, read } = await written();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'conf/.password_verification'), 'not-a-keystore');
    await writeInstance(dir, { botId: 'hb-one', brokerUrl: 'mqtt://127.0.0.1:1884', login: { username: 'bot-hb-one', password: 'broker-pw-123' }, strategy, controllerType: () => null }, { pbkdf2Rounds: 1000 });
    expect(await decryptSecretValue(read('conf/.password_verification'), out.configPassword)).toBe('HummingBot');
  });

  it('refuses a script strategy: a Hummingbot image runs controllers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-instance-'));
    dirs.push(dir);
    await expect(writeInstance(dir, { botId: 'hb-s', brokerUrl: 'mqtt://127.0.0.1:1883', login: { username: 'u', password: 'p' }, strategy: { script: { name: 'x', config: {} } }, controllerType: () => null }, { pbkdf2Rounds: 1000 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'script' }] },
    });
  });
});
