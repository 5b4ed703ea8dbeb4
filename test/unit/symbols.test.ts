import { describe, expect, it } from 'vitest';
import { fromCcxtSymbol, toCcxtSymbol, toDecimalString } from '../../src/core/exchange/ccxt/symbols.js';

describe('fromCcxtSymbol', () => {
  it.each([
    ['BTC/USDT', 'BTC-USDT'],
    ['BTC/USDT:USDT', 'BTC-USDT'],
    ['ETH/BTC', 'ETH-BTC'],
    ['1000PEPE/USDT:USDT', '1000PEPE-USDT'],
    ['btc/usdt', 'BTC-USDT'],
    ['BTC/USD:BTC', 'BTC-USD'],
  ])('%s → %s', (symbol, pair) => {
    expect(fromCcxtSymbol(symbol)).toBe(pair);
  });

  it.each([
    'BTC/USDT:USDT-240628', // dated future
    'BTC/USD:BTC-240628-60000-C', // option
    'BTC-USDT', // already ours
    'BTCUSDT',
    'BTC/',
    '/USDT',
    '',
    'BTC/US DT',
  ])('%j → null', (symbol) => {
    expect(fromCcxtSymbol(symbol)).toBeNull();
  });
});

describe('toCcxtSymbol', () => {
  it('makes spot and linear perpetual symbols', () => {
    expect(toCcxtSymbol('BTC-USDT', false)).toBe('BTC/USDT');
    expect(toCcxtSymbol('BTC-USDT', true)).toBe('BTC/USDT:USDT');
    expect(toCcxtSymbol('ETH-BTC', false)).toBe('ETH/BTC');
  });

  it('round-trips with fromCcxtSymbol', () => {
    for (const pair of ['BTC-USDT', 'ETH-BTC', '1000PEPE-USDT']) {
      expect(fromCcxtSymbol(toCcxtSymbol(pair, false))).toBe(pair);
      expect(fromCcxtSymbol(toCcxtSymbol(pair, true))).toBe(pair);
    }
  });
});

describe('toDecimalString', () => {
  it.each([undefined, null, '', Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 'abc'])('%j → null', (v) => {
    expect(toDecimalString(v as number | string | undefined | null)).toBeNull();
  });

  it.each([
    [0, '0'],
    [1, '1'],
    [0.1, '0.1'],
    [0.01, '0.01'],
    [123.456, '123.456'],
    [-2.5, '-2.5'],
    [0.000001, '0.000001'],
    [1e-7, '0.0000001'],
    [1e-8, '0.00000001'],
    [5e-10, '0.0000000005'],
    [1.23e-7, '0.000000123'],
    [9000, '9000'],
    [1e15, '1000000000000000'],
    ['0.00010', '0.0001'],
    ['42', '42'],
  ] as const)('%j → %s', (v, s) => {
    expect(toDecimalString(v)).toBe(s);
  });

  it('never uses exponent notation for small numbers', () => {
    for (const v of [1e-6, 3e-7, 1e-9, 2.5e-12, 1e-15]) {
      const s = toDecimalString(v)!;
      expect(s).not.toMatch(/e/i);
      expect(Number(s)).toBe(v);
    }
  });

  it('never uses exponent notation for large numbers (exchanges publish huge max limits)', () => {
    for (const v of [1e20, 9.2e18, 1e21, 1e25]) {
      const s = toDecimalString(v)!;
      expect(s).not.toMatch(/e/i);
      expect(Number(s)).toBe(v);
    }
  });
});
