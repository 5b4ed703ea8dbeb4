import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelsOf, VERBS } from '../../src/core/command/index.js';
import { loadPrompts, PROMPTS_DIR, renderPrompt } from '../../src/mcp/prompts.js';
import { allCommands } from '../../src/tools/index.js';

const { instructions, prompts } = loadPrompts();
const byName = (name: string) => prompts.find((p) => p.name === name)!;
const mcpTools = new Set(allCommands.filter((c) => channelsOf(c).includes('mcp')).map((c) => c.name));
const groups = [...new Set(allCommands.map((c) => c.group))];

/** Backticked names shaped like `<group>_<verb>_…`: the tools a text tells the model to call. */
function toolNamesIn(text: string): string[] {
  const re = new RegExp(`\`((?:${groups.join('|')})_(?:${VERBS.join('|')})_[a-z0-9_]+)\``, 'g');
  return [...new Set([...text.matchAll(re)].map((m) => m[1]!))];
}

describe('the prompt files', () => {
  it('every file but the instructions is a prompt with a name, title and description', () => {
    const files = readdirSync(PROMPTS_DIR).filter((f) => f.endsWith('.md') && f !== 'server-instructions.md');
    expect(prompts).toHaveLength(files.length);
    for (const p of prompts) {
      expect(p.name, p.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(p.title.length, p.name).toBeGreaterThan(5);
      expect(p.description.length, p.name).toBeGreaterThan(20);
      expect(p.body.length, p.name).toBeGreaterThan(200);
    }
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['explore_markets', 'portfolio_review', 'place_order_safely', 'kill_switch_response']));
  });

  it('each placeholder in a body is a declared argument, and each argument is used', () => {
    for (const p of prompts) {
      const used = new Set([...p.body.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((m) => m[1]));
      expect([...used].sort(), p.name).toEqual(p.arguments.map((a) => a.name).sort());
    }
  });

  it('mention only tools that exist and are served over MCP', () => {
    for (const text of [instructions, ...prompts.map((p) => p.body)]) {
      for (const name of toolNamesIn(text)) expect(mcpTools.has(name), `${name} is not an MCP tool`).toBe(true);
    }
    // The check above does find tool names.
    expect(toolNamesIn(byName('place_order_safely').body)).toEqual(expect.arrayContaining(['safety_get_status', 'trading_preview_order', 'trading_place_order']));
  });
});

describe('place_order_safely', () => {
  const p = byName('place_order_safely');

  it('takes the order fields, the price optional', () => {
    expect(p.arguments.map((a) => [a.name, a.required])).toEqual([
      ['account_name', true],
      ['connector_name', true],
      ['trading_pair', true],
      ['side', true],
      ['amount', true],
      ['price', false],
    ]);
  });

  it('renders the order into the steps, in the safe order', () => {
    const text = renderPrompt(p, { account_name: 'master_account', connector_name: 'sim', trading_pair: 'ETH-USDT', side: 'buy', amount: '0.5' });
    expect(text.replace(/\s+/g, ' ')).toContain('buy 0.5 of ETH-USDT on `sim` from account `master_account`');
    expect(text).toContain('limit price: (not given)');
    expect(text).not.toContain('{{');
    const order = ['safety_get_status', 'connectors_get_trading_rules', 'market_data_get_ticker', 'trading_preview_order', 'trading_place_order'].map((t) => text.indexOf(`\`${t}\``));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toMatch(/confirmation_token/);
    expect(text).toMatch(/client_order_id/);
    expect(text).toMatch(/Never try to work around it/);
  });
});

describe('the other new prompts', () => {
  it('portfolio_review reads only and does not trade', () => {
    const text = renderPrompt(byName('portfolio_review'), {});
    for (const t of ['portfolio_get_balances', 'portfolio_get_distribution', 'portfolio_get_performance', 'trading_list_positions']) expect(text).toContain(`\`${t}\``);
    expect(text).toMatch(/Do not place, cancel or close anything/);
  });

  it('kill_switch_response explains who clears a switch and sets one only as needed', () => {
    const text = renderPrompt(byName('kill_switch_response'), { account_name: 'bot_account' });
    expect(text).toContain('account: bot_account');
    for (const t of ['safety_get_status', 'trading_list_orders', 'trading_list_positions', 'safety_set_kill_switch']) expect(text).toContain(`\`${t}\``);
    expect(text).toMatch(/no agent can clear a kill switch/);
    expect(text).toMatch(/only when the user asks/);
  });
});

describe('the server instructions', () => {
  it('mention the guardrails and the untrusted-data fence', () => {
    for (const s of ['paper', 'live', 'trading_preview_order', 'confirmation_token', 'kill switch', 'safety_set_kill_switch', '<untrusted-data-4f2a9c… id="1">']) expect(instructions).toContain(s);
  });

  it('are read from server-instructions.md without front matter', () => {
    expect(instructions).toBe(readFileSync(join(PROMPTS_DIR, 'server-instructions.md'), 'utf8').trim());
  });
});
