import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeInstance } from '../../../src/core/bots/hummingbot/instance.js';

/**
 * A Hummingbot container has write access to the parts of its instance folder mounted into it
 * (conf/controllers, conf/scripts, data, logs...). A hostile image can leave a symlink there; the next
 * deploy or config change must not follow it and write or delete files outside the bot's state dir.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

const instance = {
  botId: 'hb-sym',
  brokerUrl: 'mqtt://127.0.0.1:1884',
  login: { username: 'bot-hb-sym', password: 'broker-pw-sym' },
  strategy: { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'binance', trading_pair: 'SOL-USDT' } }] },
  controllerType: () => 'market_making',
};

describe('the Hummingbot instance folder against symlinks planted by its container', () => {
  for (const sub of ['conf/controllers', 'conf/scripts', 'conf/connectors', 'data', 'logs']) {
    it(`does not follow a symlink left at ${sub}`, async () => {
      const state = tmp('hb-state-');
      const outside = tmp('hb-outside-');
      writeFileSync(join(outside, 'victim.yml'), 'precious: true\n');
      mkdirSync(join(state, 'conf'), { recursive: true });
      symlinkSync(outside, join(state, sub));
      await writeInstance(state, instance, { pbkdf2Rounds: 1000 });
      // Nothing written into or removed from the symlink's target.
      expect(readFileSync(join(outside, 'victim.yml'), 'utf8')).toBe('precious: true\n');
      expect(existsSync(join(outside, 'hb-sym.yml'))).toBe(false);
      expect(existsSync(join(outside, 'controller_1.yml')) || existsSync(join(outside, 'pmm_simple_1.yml'))).toBe(false);
      expect(lstatSync(join(state, sub)).isDirectory()).toBe(true);
    });
  }

  it('does not follow a symlink left at conf itself', async () => {
    const state = tmp('hb-state-');
    const outside = tmp('hb-outside-');
    symlinkSync(outside, join(state, 'conf'));
    await writeInstance(state, instance, { pbkdf2Rounds: 1000 });
    expect(existsSync(join(outside, 'conf_client.yml'))).toBe(false);
    expect(lstatSync(join(state, 'conf')).isDirectory()).toBe(true);
  });
});
