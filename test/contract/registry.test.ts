import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { channelsOf, createRegistry, defineCommand, NAME_MAX, NAME_PATTERN, pathParams, RegistryError, toJsonSchema, VERBS, type AnyCommand, type CommandDefinition, type JsonSchema } from '../../src/core/command/index.js';
import { allCommands } from '../../src/tools/index.js';

/**
 * The smallest input each command accepts. Every command must have an entry (a test below checks it),
 * so adding a command without one fails here rather than silently skipping the strictness check.
 */
const VALID_MINIMAL: Record<string, Record<string, unknown>> = {
  connectors_list_connectors: {},
  connectors_get_connector: { connector_name: 'sim' },
  connectors_get_trading_rules: { connector_name: 'sim' },
  connectors_list_markets: { connector_name: 'sim' },
  accounts_list_accounts: {},
  accounts_create_account: { account_name: 'contract_acct' },
  accounts_update_account: { account_name: 'contract_acct', remove_connectors: ['sim'] },
  accounts_delete_account: { account_name: 'contract_acct' },
  accounts_get_balances: { account_name: 'master_account' },
  accounts_set_paper_balances: { account_name: 'master_account', connector_name: 'sim', balances: { USDT: '1000' } },
  users_list_users: {},
  users_create_user: { username: 'someone', password: 'a-long-password', role: 'viewer' },
  users_update_user: { username: 'someone', role: 'trader' },
  users_delete_user: { username: 'someone' },
  market_data_get_ticker: { connector_name: 'sim', trading_pair: 'BTC-USDT' },
  market_data_get_order_book: { connector_name: 'sim', trading_pair: 'BTC-USDT' },
  market_data_get_candles: { connector_name: 'sim', trading_pair: 'BTC-USDT' },
  market_data_get_trades: { connector_name: 'sim', trading_pair: 'BTC-USDT' },
  trading_place_order: { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' },
  trading_list_orders: {},
  trading_get_order: { order_id: 'ord_contract' },
  trading_cancel_order: { order_id: 'ord_contract' },
  trading_list_positions: {},
  trading_list_fills: {},
  trading_close_position: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' },
  portfolio_get_balances: {},
  portfolio_get_distribution: {},
  portfolio_get_history: {},
  portfolio_get_performance: {},
  trading_preview_order: { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' },
  trading_set_leverage: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 3 },
  safety_get_status: {},
  safety_set_kill_switch: { reason: 'contract' },
  safety_clear_kill_switch: {},
  safety_update_policy: { account_name: 'master_account' },
  audit_search_events: {},
  approvals_list_approvals: {},
  approvals_get_approval: { approval_id: 'apr_AAAAAAAAAAAAAAAA' },
  approvals_approve_order: { approval_id: 'apr_AAAAAAAAAAAAAAAA' },
  approvals_reject_order: { approval_id: 'apr_AAAAAAAAAAAAAAAA' },
  jobs_list_jobs: {},
  jobs_get_job: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  jobs_cancel_job: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  jobs_start_candle_backfill: { connector_name: 'sim', trading_pair: 'BTC-USDT', start_time: '2024-01-01T00:00:00Z' },
  executors_create_executor: { executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001' } },
  executors_list_executors: {},
  executors_get_summary: {},
  executors_get_executor: { executor_id: 'ex_contract' },
  executors_stop_executor: { executor_id: 'ex_contract' },
  backtesting_run_backtest: { controller: { name: 'bollinger_v1' }, connector: 'sim', trading_pair: 'BTC-USDT', start: 0, end: 60_000 },
  backtesting_get_backtest: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  backtesting_get_backtest_metrics: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  backtesting_list_backtests: {},
  backtesting_delete_backtest: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  backtesting_run_optimization: {
    backtest: { controller: { name: 'bollinger_v1' }, connector: 'sim', trading_pair: 'BTC-USDT', start: 0, end: 60_000 },
    space: { bb_length: { min: 20, max: 40, step: 10 } },
    objective: { metric: 'sharpe_ratio' },
  },
  backtesting_get_optimization: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  backtesting_list_optimizations: {},
  backtesting_delete_optimization: { job_id: 'job_AAAAAAAAAAAAAAAA' },
  backtesting_create_optimized_config: { job_id: 'job_AAAAAAAAAAAAAAAA', name: 'best' },
  strategies_list_controllers: {},
  strategies_get_controller: { controller_name: 'bollinger_v1' },
  strategies_validate_controller_config: { controller_name: 'bollinger_v1', config: {} },
  strategies_list_controller_configs: {},
  strategies_create_controller_config: { controller_name: 'bollinger_v1', name: 'btc_trend', config: {} },
  strategies_get_controller_config: { config_id: 'cfg_AAAAAAAAAAAAAAAA' },
  strategies_update_controller_config: { config_id: 'cfg_AAAAAAAAAAAAAAAA', config: {} },
  strategies_delete_controller_config: { config_id: 'cfg_AAAAAAAAAAAAAAAA' },
  strategies_list_config_versions: { config_id: 'cfg_AAAAAAAAAAAAAAAA' },
  strategies_list_scripts: {},
  strategies_get_script: { script_name: 'twap_buyer_v1' },
  strategies_validate_script_config: { script_name: 'twap_buyer_v1', config: {} },
  bots_list_bots: {},
  bots_deploy_bot: { bot_id: 'contract-bot', account_name: 'master_account', script: { name: 'twap_buyer_v1', config: {} } },
  bots_deploy_controllers: { controller_name: 'bollinger_v1', config_ids: ['cfg_AAAAAAAAAAAAAAAA'], bot_id: 'contract-bot', account_name: 'master_account' },
  bots_run_script: { script_name: 'twap_buyer_v1', config: {}, bot_id: 'contract-bot', account_name: 'master_account' },
  bots_get_status: { bot_id: 'contract-bot' },
  bots_start_bot: { bot_id: 'contract-bot' },
  bots_stop_bot: { bot_id: 'contract-bot' },
  bots_update_config: { bot_id: 'contract-bot', script_config: {} },
  bots_get_logs: { bot_id: 'contract-bot' },
  bots_list_fills: { bot_id: 'contract-bot' },
  bots_get_performance: { bot_id: 'contract-bot' },
  bots_list_events: { bot_id: 'contract-bot' },
  bots_list_runs: { bot_id: 'contract-bot' },
  bots_archive_bot: { bot_id: 'contract-bot' },
  docker_get_running: {},
  docker_list_images: {},
  docker_list_active_containers: {},
  docker_list_exited_containers: {},
  docker_pull_image: { image_name: 'hummingbot/hummingbot:latest' },
  docker_start_container: { name: 'tradedesk-bot-contract' },
  docker_stop_container: { name: 'tradedesk-bot-contract' },
  docker_remove_container: { name: 'tradedesk-bot-contract' },
  docker_get_allowed_images: {},
  docker_set_allowed_images: { patterns: [] },
};

const RISKS = ['read', 'write', 'destructive', 'admin'] as const;
const PRIMITIVE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** A JSON Schema that a query string can carry: a primitive, an enum/const, or a union of those. */
function isPrimitive(s: JsonSchema): boolean {
  if ('enum' in s || 'const' in s) return true;
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) return union.every((b) => isPrimitive(b));
  const t = s.type;
  if (typeof t === 'string') return PRIMITIVE_TYPES.has(t);
  if (Array.isArray(t)) return t.every((x) => PRIMITIVE_TYPES.has(String(x)));
  return false;
}

/** Flat: a primitive, or an array of primitives, or a union of those (a list given as "a,b" or repeated). */
function isFlat(s: JsonSchema): boolean {
  if (isPrimitive(s)) return true;
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) return union.every((b) => isFlat(b));
  return s.type === 'array' && typeof s.items === 'object' && s.items !== null && isPrimitive(s.items as JsonSchema);
}

/** Every object schema with declared properties, at any depth, as [json-path, schema]. */
function objectSchemas(s: unknown, path = '$'): Array<[string, JsonSchema]> {
  if (s === null || typeof s !== 'object') return [];
  const out: Array<[string, JsonSchema]> = [];
  const node = s as JsonSchema;
  if ('properties' in node) out.push([path, node]);
  for (const [k, v] of Object.entries(node)) {
    if (Array.isArray(v)) v.forEach((x, i) => out.push(...objectSchemas(x, `${path}.${k}[${i}]`)));
    else out.push(...objectSchemas(v, `${path}.${k}`));
  }
  return out;
}

const table = allCommands.map((cmd) => ({ name: cmd.name, cmd }));

describe('the command table', () => {
  it('is accepted by createRegistry', () => {
    expect(() => createRegistry(allCommands)).not.toThrow();
  });

  it('has unique names', () => {
    const names = allCommands.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has a minimal valid input for every command (and no stale entries)', () => {
    expect(Object.keys(VALID_MINIMAL).sort()).toEqual(allCommands.map((c) => c.name).sort());
  });
});

describe.each(table)('command $name', ({ cmd }) => {
  const input = toJsonSchema(cmd.input, 'input');

  it('has a snake_case <group>_<verb>_<noun> name of at most 40 characters', () => {
    expect(cmd.name).toMatch(NAME_PATTERN);
    expect(cmd.name.length).toBeLessThanOrEqual(NAME_MAX);
    expect(NAME_MAX).toBe(40);
    expect(cmd.name.startsWith(`${cmd.group}_`)).toBe(true);
  });

  it('uses a verb from VERBS right after its group', () => {
    const verb = cmd.name.slice(cmd.group.length + 1).split('_')[0];
    expect(VERBS as readonly string[]).toContain(verb);
  });

  it('declares a known risk class', () => {
    expect(RISKS).toContain(cmd.risk);
  });

  it('has a strict object input: JSON Schema additionalProperties false and an unknown key is rejected', () => {
    expect(cmd.input).toBeInstanceOf(z.ZodObject);
    expect(input.type).toBe('object');
    expect(input.additionalProperties).toBe(false);
    const minimal = VALID_MINIMAL[cmd.name]!;
    expect(cmd.input.safeParse(minimal).success, 'the minimal input must itself be valid').toBe(true);
    const res = cmd.input.safeParse({ ...minimal, zz_unknown: 1 });
    expect(res.success).toBe(false);
    expect(res.error?.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });

  it('has strict nested input objects too (no object with properties allows extra keys)', () => {
    for (const [path, schema] of objectSchemas(input)) {
      expect(schema.additionalProperties, `${path} must set additionalProperties: false`).toBe(false);
    }
  });

  it('has an object output', () => {
    expect(cmd.output).toBeInstanceOf(z.ZodObject);
    expect(toJsonSchema(cmd.output, 'output').type).toBe('object');
  });

  it('binds every path parameter to an input key', () => {
    for (const p of pathParams(cmd.http.path)) expect(Object.keys(cmd.input.shape)).toContain(p);
  });

  it('has a description of 40 to 600 characters', () => {
    expect(cmd.description.length).toBeGreaterThanOrEqual(40);
    expect(cmd.description.length).toBeLessThanOrEqual(600);
  });
});

const getTable = table.filter(({ cmd }) => cmd.http.method === 'GET');
const adminTable = table.filter(({ cmd }) => cmd.risk === 'admin');

describe('GET commands', () => {
  it.each(getTable)('$name has a flat input (every property is a primitive, enum or array of primitives)', ({ cmd }) => {
    const props = (toJsonSchema(cmd.input, 'input').properties ?? {}) as Record<string, JsonSchema>;
    for (const [key, schema] of Object.entries(props)) {
      expect(isFlat(schema), `${cmd.name}.${key} is not a primitive, enum or array of primitives: ${JSON.stringify(schema)}`).toBe(true);
    }
  });
});

describe('admin commands', () => {
  it('exist in the table (so the REST-only check below is not vacuous)', () => {
    expect(adminTable.length).toBeGreaterThan(0);
  });

  it.each(adminTable)('$name is REST-only', ({ cmd }) => {
    expect(channelsOf(cmd)).not.toContain('mcp');
    expect(channelsOf(cmd)).toContain('rest');
  });
});

describe('the flat-input check', () => {
  it('rejects a nested object and accepts primitives, enums and lists', () => {
    expect(isFlat(toJsonSchema(z.object({ a: z.string() }), 'input'))).toBe(false);
    expect(isFlat(toJsonSchema(z.array(z.object({ a: z.string() })), 'input'))).toBe(false);
    expect(isFlat(toJsonSchema(z.string(), 'input'))).toBe(true);
    expect(isFlat(toJsonSchema(z.enum(['a', 'b']), 'input'))).toBe(true);
    expect(isFlat(toJsonSchema(z.array(z.number()), 'input'))).toBe(true);
  });
});

describe('createRegistry refuses', () => {
  const base = (over: Partial<CommandDefinition> = {}): AnyCommand =>
    defineCommand({
      name: 'demo_get_thing',
      group: 'demo',
      title: 'Get thing',
      description: 'Returns one thing; a command made up for the registry contract tests.',
      risk: 'read',
      idempotent: true,
      openWorld: false,
      input: z.strictObject({ thing_id: z.string() }),
      output: z.object({ thing_id: z.string() }),
      http: { method: 'GET', path: '/demo/things/{thing_id}' },
      handler: async (input) => ({ thing_id: String(input.thing_id) }),
      ...over,
    });

  it('accepts two well-formed commands on different routes', () => {
    const reg = createRegistry([base(), base({ name: 'demo_list_things', http: { method: 'GET', path: '/demo/things' }, input: z.strictObject({}) })]);
    expect(reg.get('demo_get_thing')?.name).toBe('demo_get_thing');
    expect(reg.toolsets()).toEqual(['demo']);
  });

  it('a duplicate name', () => {
    expect(() => createRegistry([base(), base({ http: { method: 'GET', path: '/demo/other/{thing_id}' } })])).toThrow(RegistryError);
    expect(() => createRegistry([base(), base({ http: { method: 'GET', path: '/demo/other/{thing_id}' } })])).toThrow(/duplicate/);
  });

  it.each([
    ['camelCase', 'demo_getThing'],
    ['too few parts', 'demo_get'],
    ['a leading digit', '1demo_get_thing'],
    ['a hyphen', 'demo_get-thing'],
    ['more than 40 characters', `demo_get_${'x'.repeat(40)}`],
  ])('a badly formed name (%s)', (_why, name) => {
    expect(() => createRegistry([base({ name })])).toThrow(RegistryError);
  });

  it('a verb outside VERBS', () => {
    expect(() => createRegistry([base({ name: 'demo_fetch_thing' })])).toThrow(/verb/);
  });

  it('a name outside its group', () => {
    expect(() => createRegistry([base({ name: 'other_get_thing' })])).toThrow(/group/);
  });

  it('a path parameter missing from the input', () => {
    expect(() => createRegistry([base({ input: z.strictObject({ id: z.string() }) })])).toThrow(/path parameter \{thing_id\}/);
  });

  it('two commands on the same route, even with differently named parameters', () => {
    const other = base({ name: 'demo_get_widget', input: z.strictObject({ widget_id: z.string() }), http: { method: 'GET', path: '/demo/things/{widget_id}' } });
    expect(() => createRegistry([base(), other])).toThrow(/share the route/);
  });

  it('nothing for the same path under different methods', () => {
    const del = base({ name: 'demo_delete_thing', risk: 'write', http: { method: 'DELETE', path: '/demo/things/{thing_id}' } });
    expect(() => createRegistry([base(), del])).not.toThrow();
  });
});
