import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/logger.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { SHIPPED_SCRIPTS } from '../../../src/core/strategy/scripts/index.js';
import { controllerProblems, scriptProblems } from '../../../src/core/strategy-catalog/definition-check.js';
import { StrategyCatalog } from '../../../src/core/strategy-catalog/catalog.js';

describe('the shipped strategies in the catalog', () => {
  const catalog = new StrategyCatalog({ controllers: SHIPPED_CONTROLLERS, scripts: SHIPPED_SCRIPTS, logger: createLogger('silent') });

  it('pass the checks an operator module must pass', () => {
    for (const c of SHIPPED_CONTROLLERS) expect(controllerProblems(c), c.name).toEqual([]);
    for (const s of SHIPPED_SCRIPTS) expect(scriptProblems(s), s.name).toEqual([]);
  });

  it('each describe their config as an object JSON Schema', () => {
    for (const e of [...catalog.list('controller'), ...catalog.list('script')]) {
      expect(e.configSchema.type, e.name).toBe('object');
      expect(Object.keys(e.configSchema.properties as object).length, e.name).toBeGreaterThan(0);
    }
  });

  it('give an example config on sim with the candles it reads', () => {
    const bollinger = catalog.get('controller', 'bollinger_v1').example!;
    expect(bollinger.config).toMatchObject({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(bollinger.dataNeeds?.candles[0]).toMatchObject({ connector_name: 'sim', trading_pair: 'BTC-USDT', bars: bollinger.config.bb_length });
    // A schema that requires fields without a default gives its example's values for them.
    expect(catalog.get('script', 'twap_buyer_v1').example).toMatchObject({ config: { total_amount_quote: '1000', duration: 3600, interval: 60, min_order_quote: '5' }, dataNeeds: { quotes: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }] } });
  });
});
