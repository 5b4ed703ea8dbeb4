import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../../../src/core/logger.js';
import { defineController } from '../../../src/core/strategy/controller.js';
import { SHIPPED_SCRIPTS } from '../../../src/core/strategy/scripts/index.js';
import { StrategyCatalog } from '../../../src/core/strategy-catalog/catalog.js';

/** A logger that keeps its lines, to assert what an operator would read. */
function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const log = (level: string) => (msg: string) => void lines.push({ level, msg });
  const logger = { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

/** A shipped controller made for this test. */
const bandWatch = defineController({
  name: 'band_watch_v1',
  type: 'directional_trading',
  description: 'Watches one pair; a controller defined for the catalog tests.',
  config: z.strictObject({
    connector_name: z.string().default('sim'),
    trading_pair: z.string().default('BTC-USDT'),
    period: z.number().int().min(2).max(500).default(20).describe('Bars in the band.'),
  }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '1h', bars: c.period * 2 }], quotes: [] }),
  warmupBars: (c) => c.period,
  create: () => ({ update: () => [] }),
});

const GOOD_CONTROLLER = `export default ({ z }) => ({
  name: 'ema_cross_v1',
  type: 'directional_trading',
  description: 'Crosses two EMAs; an operator module.',
  config: z.strictObject({ connector_name: z.string(), trading_pair: z.string().default('ETH-USDT'), fast: z.number().int().min(2).default(12) }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '5m', bars: c.fast * 3 }], quotes: [] }),
  warmupBars: (c) => c.fast * 3,
  create: () => ({ update: () => [] }),
});
`;

describe('StrategyCatalog', () => {
  let dir: string;
  const logger = recordingLogger();
  let catalog: StrategyCatalog;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'td-strategies-'));
    mkdirSync(join(dir, 'controllers'));
    mkdirSync(join(dir, 'scripts'));
    writeFileSync(join(dir, 'controllers', 'a-good.mjs'), GOOD_CONTROLLER);
    // Same name again, in a later file: refused.
    writeFileSync(join(dir, 'controllers', 'b-duplicate.mjs'), GOOD_CONTROLLER.replace('an operator module', 'a copy'));
    // Same name as a shipped controller: refused.
    writeFileSync(join(dir, 'controllers', 'c-shadow.mjs'), GOOD_CONTROLLER.replace("'ema_cross_v1'", "'band_watch_v1'"));
    writeFileSync(join(dir, 'controllers', 'd-no-type.mjs'), GOOD_CONTROLLER.replace("type: 'directional_trading'", "type: 'scalping'").replace("'ema_cross_v1'", "'Bad Name'"));
    writeFileSync(join(dir, 'controllers', 'e-syntax.js'), 'export default {{;');
    writeFileSync(join(dir, 'controllers', 'f-plain-config.mjs'), "export default { name: 'plain_v1', type: 'generic', description: 'x', config: { fast: 1 }, data() {}, warmupBars() {}, create() {} };");
    writeFileSync(join(dir, 'controllers', 'notes.txt'), 'not a module');
    writeFileSync(
      join(dir, 'scripts', 'dca.mjs'),
      `export default ({ z }) => [
        { name: 'daily_dca_v1', description: 'Buys a fixed amount each day.', config: z.strictObject({ amount_quote: z.string() }), data: () => ({ candles: [], quotes: [] }), stepSeconds: () => 86400, create: () => ({}) },
        { name: 'twap_buyer_v1', description: 'Shadows the shipped one.', config: z.strictObject({}), data: () => ({ candles: [], quotes: [] }), stepSeconds: () => 1, create: () => ({}) },
      ];`,
    );
    catalog = new StrategyCatalog({ controllers: [bandWatch], scripts: SHIPPED_SCRIPTS, dir, logger });
    await catalog.start();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the shipped strategies and the valid operator modules, by name', () => {
    expect(catalog.list('controller').map((e) => [e.name, e.source, e.type])).toEqual([
      ['band_watch_v1', 'shipped', 'directional_trading'],
      ['ema_cross_v1', 'operator', 'directional_trading'],
    ]);
    expect(catalog.list('script').map((e) => [e.name, e.source])).toEqual([
      ['daily_dca_v1', 'operator'],
      ['portfolio_rebalancer_v1', 'shipped'],
      ['twap_buyer_v1', 'shipped'],
    ]);
    expect(catalog.get('controller', 'ema_cross_v1').description).toBe('Crosses two EMAs; an operator module.');
  });

  it('logs each skipped module with its file and the problem', () => {
    const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    const about = (file: string) => warnings.filter((w) => w.includes(join(dir, file)));
    expect(about('controllers/b-duplicate.mjs')).toEqual([`skipped controller module ${join(dir, 'controllers/b-duplicate.mjs')}: the name ema_cross_v1 is already taken by ${join(dir, 'controllers/a-good.mjs')}`]);
    expect(about('controllers/c-shadow.mjs')[0]).toContain('the name band_watch_v1 is already taken by a shipped controller');
    expect(about('controllers/d-no-type.mjs')[0]).toMatch(/name must be snake_case.*type must be one of directional_trading, market_making, generic/);
    expect(about('controllers/e-syntax.js')[0]).toContain('failed to load');
    expect(about('controllers/f-plain-config.mjs')[0]).toContain('config must be a zod 4 schema');
    expect(about('scripts/dca.mjs')).toEqual([`skipped script module ${join(dir, 'scripts/dca.mjs')}: the name twap_buyer_v1 is already taken by a shipped script`]);
    expect(warnings.some((w) => w.includes('notes.txt'))).toBe(false);
    expect(logger.lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([
      `loaded controller ema_cross_v1 from ${join(dir, 'controllers/a-good.mjs')}`,
      `loaded script daily_dca_v1 from ${join(dir, 'scripts/dca.mjs')}`,
    ]);
  });

  it('describes a config as JSON Schema, with an example config and the data it needs', () => {
    const band = catalog.get('controller', 'band_watch_v1');
    expect(band.configSchema).toMatchObject({ type: 'object', additionalProperties: false, properties: { period: { type: 'integer', minimum: 2, maximum: 500, default: 20, description: 'Bars in the band.' } } });
    expect(band.example).toEqual({
      config: { connector_name: 'sim', trading_pair: 'BTC-USDT', period: 20 },
      dataNeeds: { candles: [{ connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1h', bars: 40 }], quotes: [], warmup_bars: 20, executors: 'all' },
    });
    // connector_name has no default: the example names the sim market.
    expect(catalog.get('controller', 'ema_cross_v1').example?.config).toEqual({ connector_name: 'sim', trading_pair: 'ETH-USDT', fast: 12 });
    // Other required fields: no example.
    expect(catalog.get('script', 'daily_dca_v1').example).toBeNull();
  });

  it('validates a config: its normal form and needs, or every issue with its path', () => {
    expect(catalog.validate('controller', 'ema_cross_v1', { connector_name: 'binance', fast: 5 })).toEqual({
      valid: true,
      config: { connector_name: 'binance', trading_pair: 'ETH-USDT', fast: 5 },
      dataNeeds: { candles: [{ connector_name: 'binance', trading_pair: 'ETH-USDT', interval: '5m', bars: 15 }], quotes: [], warmup_bars: 15, executors: 'all' },
    });
    const bad = catalog.validate('controller', 'ema_cross_v1', { fast: 1, extra: true });
    expect(bad.valid).toBe(false);
    expect(!bad.valid && bad.issues.map((i) => i.path).sort()).toEqual(['(root)', 'connector_name', 'fast']);
    const twap = catalog.validate('script', 'twap_buyer_v1', { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: 100, duration: 60, interval: 30 });
    expect(twap).toMatchObject({ valid: true, config: { total_amount_quote: '100', min_order_quote: '5' }, dataNeeds: { step_seconds: 30 } });
  });

  it('answers NOT_FOUND for an unknown name, naming the known ones', () => {
    expect(() => catalog.get('controller', 'nope_v1')).toThrow(expect.objectContaining({ code: 'NOT_FOUND', hint: expect.stringContaining('band_watch_v1, ema_cross_v1') }));
  });

  it('starts with the shipped strategies alone when the folder does not exist', async () => {
    const bare = new StrategyCatalog({ controllers: [bandWatch], scripts: SHIPPED_SCRIPTS, dir: join(dir, 'missing'), logger: recordingLogger() });
    await bare.start();
    expect(bare.list('controller').map((e) => e.name)).toEqual(['band_watch_v1']);
    expect(bare.list('script')).toHaveLength(2);
  });
});
