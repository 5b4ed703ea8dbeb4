import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestKey, knownKeysAt, withKeyHints } from '../../src/core/command/key-hints.js';

const Schema = z.strictObject({
  connector: z.string(),
  trading_pair: z.string(),
  wait_seconds: z.number().optional(),
  controller: z.strictObject({ name: z.string(), config: z.record(z.string(), z.unknown()) }).optional(),
  legs: z.array(z.strictObject({ side: z.string(), amount: z.string() })).default([]),
  balances: z.record(z.string(), z.strictObject({ total: z.string() })).optional(),
});
const messages = (input: unknown) => Schema.safeParse(input).error!.issues.map((i) => `${i.path.join('.') || '(root)'}: ${withKeyHints(Schema, i)}`);

describe('unrecognized key hints', () => {
  it('name the key meant: a prefix of it, or within two edits', () => {
    expect(messages({ connector: 'sim', trading_pair: 'BTC-USDT', wait: 5 })).toEqual(['(root): Unrecognized key: "wait" (did you mean wait_seconds?)']);
    expect(messages({ connector: 'sim', trading_par: 'BTC-USDT' })).toEqual([
      'trading_pair: Invalid input: expected string, received undefined',
      '(root): Unrecognized key: "trading_par" (did you mean trading_pair?)',
    ]);
  });

  it('look inside nested objects, arrays and records, and through optional and default', () => {
    const input = { connector: 'sim', trading_pair: 'BTC-USDT', controller: { nmae: 'x', config: {} }, legs: [{ side: 'buy', amout: '1' }], balances: { BTC: { totl: '1' } } };
    expect(messages(input)).toEqual([
      'controller.name: Invalid input: expected string, received undefined',
      'controller: Unrecognized key: "nmae" (did you mean name?)',
      'legs.0.amount: Invalid input: expected string, received undefined',
      'legs.0: Unrecognized key: "amout" (did you mean amount?)',
      'balances.BTC.total: Invalid input: expected string, received undefined',
      'balances.BTC: Unrecognized key: "totl" (did you mean total?)',
    ]);
  });

  it('say nothing more for a key unlike any, and pair each key with its match when there are several', () => {
    expect(messages({ connector: 'sim', trading_pair: 'BTC-USDT', bogus_field: 1 })).toEqual(['(root): Unrecognized key: "bogus_field"']);
    expect(messages({ connector: 'sim', trading_pair: 'BTC-USDT', wait: 1, conector: 'x' })).toEqual(['(root): Unrecognized keys: "wait", "conector" (did you mean wait_seconds for wait, connector for conector?)']);
  });

  it('closestKey and knownKeysAt', () => {
    expect(closestKey('ab', ['abc'])).toBeNull();
    expect(closestKey('side', ['side_x', 'side_y'])).toBeNull();
    expect(knownKeysAt(Schema, ['controller'])).toEqual(['name', 'config']);
    expect(knownKeysAt(Schema, ['controller', 'config'])).toBeNull();
    expect(knownKeysAt(Schema, ['nowhere'])).toBeNull();
  });
});
