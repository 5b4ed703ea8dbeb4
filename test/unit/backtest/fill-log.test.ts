import { describe, expect, it } from 'vitest';
import { FillLog } from '../../../src/core/backtest/fill-log.js';
import { compactDecimal, compactText, Decimal } from '../../../src/core/decimal.js';

const d = (s: string) => new Decimal(s);

describe('FillLog', () => {
  it('lists the fills as pushed, every decimal in its own text, across chunks', () => {
    const log = new FillLog();
    const odd = ['0.000000012', '97392.094343987162595052', '-0', '1234567890123456', '0.1', '5e-7'];
    const want: unknown[] = [];
    for (let i = 0; i < 2_500; i++) {
      const price = d(i % 7 === 0 ? odd[i % odd.length]! : `${100 + i}.${i % 10}5`);
      const amount = d(`0.00${i + 1}`);
      const fee = d(i % 5 === 0 ? odd[(i + 1) % odd.length]! : `0.0000${i}3`);
      // Minted ids (kept as numbers) and others: prefixed, leading zeros, bare letters, too long.
      const ids = ['bot1-e5', 'e007', 'e', `e${i}x`, 'e12345678901234567'];
      const executorId = i % 3 === 0 ? null : i % 11 === 0 ? ids[i % ids.length]! : `e${i}`;
      const orderId = i % 13 === 0 ? ids[i % ids.length]!.replace('e', 'o') : `o${i}`;
      log.push(executorId, orderId, i % 2 === 0, price, amount, fee, i % 4 === 0, 1_000 * i);
      want.push({ executor_id: executorId, client_order_id: orderId, side: i % 2 === 0 ? 'buy' : 'sell', price: price.toString(), amount: amount.toString(), fee: fee.toString(), is_maker: i % 4 === 0, timestamp: 1_000 * i });
    }
    expect(log.length).toBe(2_500);
    expect(log.toJson()).toEqual(want);
  });

  it('a double stands for a decimal only when it reads back as the same text and value', () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let asNumber = 0;
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(rand() * 19);
      let text = '';
      for (let k = 0; k < digits; k++) text += String(Math.floor(rand() * 10));
      const places = Math.floor(rand() * 24);
      const x = new Decimal(`${rand() < 0.2 ? '-' : ''}${text}e-${places}`);
      const n = x.exactNumber();
      expect(compactText(compactDecimal(x))).toBe(x.toString());
      if (Number.isNaN(n)) continue;
      asNumber++;
      expect(String(n)).toBe(x.toString());
      expect(new Decimal(n).toString()).toBe(x.toString());
    }
    expect(asNumber).toBeGreaterThan(5_000);
  });
});
