import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../src/core/decimal.js';
import { BarrierLevels, checkBarriers, loadTrailing, TrailingTrigger } from '../../../../src/core/strategy/executors/barriers.js';

const spec = { trailing: { activation_price: 0.02, trailing_delta: 0.01 } };
const d = (s: string) => new Decimal(s);
/** One tick at `price` with the trigger so far; returns the close type (or null) and the new trigger. */
const tick = (levels: BarrierLevels, price: string, t: TrailingTrigger | null) => checkBarriers(levels, d(price), t, false);

describe('trailing trigger', () => {
  it('arms at the activation, follows the peak and fires strictly past peak − entry × delta (long)', () => {
    const levels = new BarrierLevels(spec, 'buy', d('100'));
    expect(tick(levels, '101.99', null).trailing).toBeNull();
    const armed = tick(levels, '103', null).trailing!;
    expect(armed.fraction().toString()).toBe('0.02');
    expect(levels.trailingAt(armed).fire.toString()).toBe('102');
    expect(tick(levels, '102', armed)).toEqual({ hit: null, trailing: armed });
    expect(tick(levels, '101.99', armed).hit).toBe('TRAILING_STOP');
    const raised = tick(levels, '105', armed).trailing!;
    expect(raised).not.toBe(armed);
    expect(levels.trailingAt(raised).fire.toString()).toBe('104');
  });

  it('a short fires above peak + entry × delta', () => {
    const levels = new BarrierLevels(spec, 'sell', d('100'));
    const armed = tick(levels, '97', null).trailing!;
    expect(levels.trailingAt(armed).fire.toString()).toBe('98');
    expect(tick(levels, '98', armed).hit).toBeNull();
    expect(tick(levels, '98.01', armed).hit).toBe('TRAILING_STOP');
  });

  it('is exact where the PnL fraction does not divide out: entry 3, peak 3.1 fires below 3.07', () => {
    const levels = new BarrierLevels(spec, 'buy', d('3'));
    const armed = tick(levels, '3.1', null).trailing!;
    expect(levels.trailingAt(armed).fire.toString()).toBe('3.07');
    expect(tick(levels, '3.07', armed).hit).toBeNull();
    expect(tick(levels, '3.0699999', armed).hit).toBe('TRAILING_STOP');
    // The reported trigger is still the PnL fraction: 0.1 / 3 − 0.01.
    expect(armed.fraction().toString().startsWith('0.02333333333')).toBe(true);
  });

  it('keeps its PnL fraction when a later fill moves the entry, as the original does', () => {
    const armed = tick(new BarrierLevels(spec, 'buy', d('100')), '103', null).trailing!;
    // A second level filled: the average entry is now 99, the trigger still PnL 0.02.
    const moved = new BarrierLevels(spec, 'buy', d('99'));
    expect(at(moved, armed)).toEqual({ fire: '100.98', raise: '101.97' });
  });

  it('a saved trigger restores to the same levels, and a state saved as the bare fraction still loads', () => {
    const levels = new BarrierLevels(spec, 'buy', d('3'));
    const armed = tick(levels, '3.1', null).trailing!;
    const saved = JSON.parse(JSON.stringify(armed));
    const restored = loadTrailing(spec.trailing, 'buy', saved)!;
    expect(at(new BarrierLevels(spec, 'buy', d('3')), restored)).toEqual(at(levels, armed));
    const old = loadTrailing(spec.trailing, 'buy', '0.02')!;
    expect(at(new BarrierLevels(spec, 'buy', d('100')), old)).toEqual({ fire: '102', raise: '103' });
    expect(loadTrailing(spec.trailing, 'buy', null)).toBeNull();
  });
});

function at(l: BarrierLevels, t: TrailingTrigger): { fire: string; raise: string } {
  const x = l.trailingAt(t);
  return { fire: x.fire.toString(), raise: x.raise.toString() };
}
