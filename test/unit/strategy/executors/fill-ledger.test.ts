import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../src/core/decimal.js';
import { FillLedger } from '../../../../src/core/strategy/executors/fill-ledger.js';

const f = (price: string, amount: string, fee = '0') => ({ price: new Decimal(price), amount: new Decimal(amount), fee: new Decimal(fee) });

describe('fill ledger', () => {
  it('averages entries, realizes on reductions, flips through flat at the fill price', () => {
    const l = new FillLedger();
    l.apply('buy', f('100', '1', '0.1'));
    l.apply('buy', f('110', '1', '0.11'));
    expect([l.position.toString(), l.entryPrice!.toString(), l.openedQuote.toString()]).toEqual(['2', '105', '210']);
    expect(l.unrealizedPnl(new Decimal('104')).toString()).toBe('-2');
    l.apply('sell', f('120', '3', '0.36'));
    expect([l.position.toString(), l.entryPrice!.toString(), l.realizedPnl.toString()]).toEqual(['-1', '120', '30']);
    expect(l.unrealizedPnl(new Decimal('125')).toString()).toBe('-5');
    l.apply('buy', f('100', '1'));
    expect([l.position.toString(), l.entryPrice!.toString(), l.realizedPnl.toString()]).toEqual(['0', '120', '50']);
    expect([l.fees.toString(), l.volume.toString(), l.openedQuote.toString()]).toEqual(['0.57', '670', '330']);
  });

  it('a partial reduction keeps the entry; state round-trips', () => {
    const l = new FillLedger();
    l.apply('sell', f('50', '4'));
    l.apply('buy', f('45', '1.5'));
    expect([l.position.toString(), l.entryPrice!.toString(), l.realizedPnl.toString()]).toEqual(['-2.5', '50', '7.5']);
    expect(FillLedger.from(JSON.parse(JSON.stringify(l))).toJSON()).toEqual(l.toJSON());
  });
});
