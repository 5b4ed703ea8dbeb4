import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { channelsOf, type AnyCommand, toJsonSchema } from '../../src/core/command/index.js';
import { cutToFit, MAX_RESULT_CHARS, waterLevel } from '../../src/mcp/result-size.js';
import { toolResult } from '../../src/mcp/tool-output.js';
import { placeholderFor } from '../../src/mcp/untrusted.js';
import { allCommands } from '../../src/tools/index.js';

const validator = new AjvJsonSchemaValidator();
/** The complete output schema, which the server checks every result against (the listing shows its documented part). */
const fullOutputSchema = (cmd: AnyCommand) => toJsonSchema(cmd.output, 'output');
const command = (name: string) => allCommands.find((c) => c.name === name) as AnyCommand;
const schemaCheck = (name: string, value: unknown) => validator.getValidator(fullOutputSchema(command(name)) as never)(value);
const texts = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : ''));
const total = (r: CallToolResult) => texts(r).reduce((n, t) => n + t.length, 0);

const T0 = Date.UTC(2024, 0, 1);
const candlesOutput = (n: number) => ({
  connector_name: 'sim',
  trading_pair: 'BTC-USDT',
  interval: '1h',
  candles: Array.from({ length: n }, (_, i) => ({ timestamp: T0 + i * 3_600_000, time: new Date(T0 + i * 3_600_000).toISOString(), open: 42000.5 + i, high: 42100.25 + i, low: 41900.75 + i, close: 42050.5 + i, volume: 12.345678 })),
  direction: 'backward',
  truncated: false,
  next_start_time: null,
  previous_end_time: null,
});

describe('cutting an oversized result', () => {
  const output = candlesOutput(1000);
  const size = JSON.stringify(output).length;

  it('1000 hourly candles are over the default limit (so the default does cut them)', () => {
    expect(size).toBeGreaterThan(MAX_RESULT_CHARS);
  });

  it('keeps valid, schema-shaped JSON within the limit, the newest candles, and says so in its own block', () => {
    const r = toolResult(output);
    const [json, notice] = texts(r);
    expect(r.content).toHaveLength(2);
    const parsed = JSON.parse(json!);
    expect(parsed).toEqual(r.structuredContent);
    expect(total(r)).toBeLessThanOrEqual(MAX_RESULT_CHARS);
    const kept = parsed.candles as Array<{ timestamp: number }>;
    expect(kept.length).toBeGreaterThan(500);
    expect(kept.length).toBeLessThan(1000);
    expect(kept).toEqual(output.candles.slice(1000 - kept.length));
    // Everything but the list is as it was.
    expect({ ...parsed, candles: [] }).toEqual({ ...output, candles: [] });
    expect(schemaCheck('market_data_get_candles', r.structuredContent)).toMatchObject({ valid: true });
    expect(notice).toContain(`Result cut: ${kept.length} of 1000 items of \`candles\` shown`);
    expect(notice).toMatch(/Narrow the query/);
    // The caller's value is not changed.
    expect(output.candles).toHaveLength(1000);
  });

  it('uses most of the room it has', () => {
    const r = toolResult(output, { maxChars: 30_000 });
    expect(total(r)).toBeLessThanOrEqual(30_000);
    expect(total(r)).toBeGreaterThan(30_000 - 2_000);
  });

  it('a result within the limit is left alone', () => {
    const small = candlesOutput(10);
    const r = toolResult(small, { maxChars: 5_000 });
    expect(r.content).toHaveLength(1);
    expect(r.structuredContent).toBe(small);
  });

  it('cuts two big lists alike rather than emptying one', () => {
    const level = (i: number) => ({ price: 100 + i / 100, amount: 1.2345 });
    const book = { trading_pair: 'BTC-USDT', bids: Array.from({ length: 800 }, (_, i) => level(i)), asks: Array.from({ length: 800 }, (_, i) => level(i + 800)), meta: { small: [1, 2, 3] } };
    const cut = cutToFit(book, 20_000);
    expect(cut.json.length).toBeLessThanOrEqual(20_000);
    expect(JSON.parse(cut.json)).toEqual(cut.value);
    const kept = cut.value as typeof book;
    expect(cut.cuts.map((c) => c.path).sort()).toEqual(['asks', 'bids']);
    // Alike in characters: within one item of each other.
    const [bidsLen, asksLen] = [JSON.stringify(kept.bids).length, JSON.stringify(kept.asks).length];
    expect(Math.abs(bidsLen - asksLen)).toBeLessThanOrEqual(JSON.stringify(level(0)).length + 1);
    expect(kept.bids.length).toBeGreaterThan(100);
    expect(kept.asks.length).toBeGreaterThan(100);
    // The small list is under the water level and stays whole.
    expect(cut.cuts.map((c) => c.path)).not.toContain('meta.small');
    expect(kept.meta.small).toEqual([1, 2, 3]);
  });

  it('finds lists under nested objects, and names them by path', () => {
    const value = { portfolio: { history: Array.from({ length: 2000 }, (_, i) => ({ t: i, v: i * 1.5 })) } };
    const cut = cutToFit(value, 6_000);
    expect(cut.json.length).toBeLessThanOrEqual(6_000);
    expect(cut.cuts).toEqual([{ path: 'portfolio.history', shown: expect.any(Number), total: 2000, kept: 'first' }]);
  });

  it('drops the fenced texts of the items it cut', () => {
    const order = (i: number) => ({ order_id: `o${i}`, connector_name: 'binance', padding: 'x'.repeat(200), error_message: `venue message ${i}` });
    const r = toolResult({ data: Array.from({ length: 300 }, (_, i) => order(i)) }, { maxChars: 20_000 });
    const [json, notice, fence] = texts(r);
    expect(total(r)).toBeLessThanOrEqual(20_000);
    const shown = JSON.parse(json!).data.length as number;
    expect(notice).toContain(`Result cut: ${shown} of 300 items of \`data\``);
    // Every placeholder left has its quote, and no quote is left without its placeholder.
    const ids = [...fence!.matchAll(/<untrusted-data-[0-9a-f]{12} id="(\d+)"/g)].map((m) => Number(m[1]));
    expect(ids).toHaveLength(shown);
    for (const id of ids) expect(json).toContain(JSON.stringify(placeholderFor(id)));
    expect(fence).not.toContain(`venue message ${shown}\n`);
  });
});

describe('water level', () => {
  it('removes exactly the excess from the lists above it', () => {
    expect(waterLevel([100, 50, 10], 30)).toBe(70);
    expect(waterLevel([100, 100], 50)).toBe(75);
    expect(waterLevel([100, 60], 60)).toBe(50);
    expect(waterLevel([10, 10], 100)).toBe(2);
  });
});

describe('the output schemas', () => {
  it('set no minimum length on any list, so a cut list still validates', () => {
    const offenders: string[] = [];
    for (const cmd of allCommands.filter((c) => channelsOf(c).includes('mcp'))) {
      const text = JSON.stringify(fullOutputSchema(cmd));
      if (/"minItems":\s*[1-9]/.test(text)) offenders.push(cmd.name);
    }
    expect(offenders).toEqual([]);
  });
});
