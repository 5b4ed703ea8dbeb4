import { describe, expect, it } from 'vitest';
import { toJsonSchema } from '../../../../src/core/command/json-schema.js';
import { SHIPPED_CONTROLLERS } from '../../../../src/core/strategy/controllers/index.js';

describe('SHIPPED_CONTROLLERS', () => {
  it('lists the shipped controllers by the original names, each once', () => {
    expect(SHIPPED_CONTROLLERS.map((d) => [d.name, d.type])).toEqual([
      ['bollinger_v1', 'directional_trading'],
      ['macd_bb_v1', 'directional_trading'],
      ['supertrend_v1', 'directional_trading'],
      ['pmm_simple', 'market_making'],
      ['pmm_dynamic', 'market_making'],
      ['grid_strike', 'generic'],
      ['dca_v1', 'generic'],
    ]);
  });

  it('describes every config field in the JSON Schema a caller sees, and needs nothing but the market (and a grid its bounds)', () => {
    for (const d of SHIPPED_CONTROLLERS) {
      expect(d.description.length, d.name).toBeGreaterThan(80);
      const schema = toJsonSchema(d.config, 'input') as { properties: Record<string, { description?: string }>; required?: string[]; additionalProperties?: boolean };
      expect(schema.additionalProperties, d.name).toBe(false);
      for (const [field, prop] of Object.entries(schema.properties)) {
        expect(prop.description, `${d.name}.${field}`).toEqual(expect.any(String));
        expect(field, d.name).toMatch(/^[a-z][a-z0-9_]*$/);
      }
      const required = d.name === 'grid_strike' ? ['connector_name', 'trading_pair', 'start_price', 'end_price'] : ['connector_name', 'trading_pair'];
      expect(schema.required, d.name).toEqual(required);
    }
  });

  it('builds an instance from the defaults whose needs name its own market', () => {
    for (const d of SHIPPED_CONTROLLERS) {
      const bounds = d.name === 'grid_strike' ? { start_price: '1000', end_price: '2000' } : {};
      const config = d.config.parse({ connector_name: 'sim', trading_pair: 'ETH-USDT', ...bounds });
      const needs = d.data(config);
      expect(needs.quotes, d.name).toEqual([{ connector: 'sim', tradingPair: 'ETH-USDT' }]);
      for (const c of needs.candles) expect(c, d.name).toMatchObject({ connector: 'sim', tradingPair: 'ETH-USDT', bars: d.warmupBars(config) });
      expect(typeof d.create(config).update, d.name).toBe('function');
    }
  });
});
