import { Decimal } from '../../decimal.js';

/** `BTC/USDT` and `BTC/USDT:USDT` → `BTC-USDT`; anything else (dated futures, options) → null. */
export function fromCcxtSymbol(symbol: string): string | null {
  const m = /^([A-Z0-9]+)\/([A-Z0-9]+)(?::([A-Z0-9]+))?$/.exec(symbol.toUpperCase());
  return m ? `${m[1]}-${m[2]}` : null;
}

/** `BTC-USDT` → `BTC/USDT` (spot) or `BTC/USDT:USDT` (linear perpetual). */
export function toCcxtSymbol(pair: string, perpetual: boolean): string {
  const [base, quote] = pair.split('-');
  return perpetual ? `${base}/${quote}:${quote}` : `${base}/${quote}`;
}

/** A float from an exchange as a plain decimal string (no exponent), or null when absent. */
export function toDecimalString(v: number | string | undefined | null): string | null {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return null;
  // String(n) is the shortest form that round-trips; Decimal expands any exponent without float noise.
  return new Decimal(String(n)).toFixed();
}
