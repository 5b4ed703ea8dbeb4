import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.js';
import { pmmSimple } from '../../../src/core/strategy/controllers/pmm-simple.js';
import { parseStrategyConfig } from '../../../src/core/strategy/config-issues.js';
import { twapBuyerV1 } from '../../../src/core/strategy/scripts/twap-buyer.js';

function refusal(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('parseStrategyConfig (the config check of live controller runs, scripts and bots)', () => {
  it('names an unknown key at its own path, for a controller and for a script', () => {
    const c = refusal(() => parseStrategyConfig(pmmSimple, { connector_name: 'sim', trading_pair: 'BTC-USDT', bogus: 1 }));
    expect(c.code).toBe('VALIDATION_FAILED');
    expect(c.details).toEqual({ issues: [{ path: 'bogus', message: 'not a field of this config' }] });
    expect(c.message).toBe('Invalid pmm_simple config: bogus: not a field of this config');
    const s = refusal(() => parseStrategyConfig(twapBuyerV1, { ...twapBuyerV1.example!, nope: true }));
    expect(s.details).toEqual({ issues: [{ path: 'nope', message: 'not a field of this config' }] });
  });

  it('names a bad field by its path and the config itself as (root)', () => {
    const bad = refusal(() => parseStrategyConfig(pmmSimple, { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: 'lots' }));
    expect((bad.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(['total_amount_quote']);
    const root = refusal(() => parseStrategyConfig(pmmSimple, 'not an object'));
    expect((root.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(['(root)']);
  });

  it('returns the parsed config with its defaults', () => {
    const cfg = parseStrategyConfig(pmmSimple, { connector_name: 'sim', trading_pair: 'BTC-USDT' }) as Record<string, unknown>;
    expect(cfg.connector_name).toBe('sim');
    expect(cfg.total_amount_quote).toBeDefined();
  });
});
