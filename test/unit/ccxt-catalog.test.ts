import { describe, expect, it } from 'vitest';
import { ccxtCatalog, ccxtCatalogVersion } from '../../src/core/exchange/ccxt/ccxt-loader.js';

describe('committed ccxt catalogue', () => {
  it('matches the installed ccxt (run `npm run ccxt:catalog` after upgrading ccxt)', async () => {
    const { default: ccxt } = await import('ccxt');
    expect(ccxtCatalogVersion()).toBe(ccxt.version);
    expect([...ccxtCatalog().keys()].sort()).toEqual([...ccxt.exchanges].sort());
  });

  it('records credential fields and market types as ccxt declares them', async () => {
    const { default: ccxt } = await import('ccxt');
    const binance = new ccxt.binance();
    const facts = ccxtCatalog().get('binance')!;
    expect(facts.swap).toBe(binance.has.swap === true);
    expect(facts.requiredCredentials.sort()).toEqual(
      Object.entries(binance.requiredCredentials).filter(([, v]) => v).map(([k]) => k).sort(),
    );
  });
});
