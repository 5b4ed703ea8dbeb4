import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/core/command/index.js';
import { AppError } from '../../src/core/errors.js';
import { restRoutesAsTools } from '../../src/mcp/rest-hints.js';
import { visibleCommands } from '../../src/mcp/tool-adapter.js';
import { allCommands } from '../../src/tools/index.js';

const registry = createRegistry(allCommands);
const onMcp = (toolsets: string[] | 'all') => restRoutesAsTools(visibleCommands(registry, { channel: 'mcp', toolsets: toolsets === 'all' ? 'all' : new Set(toolsets), readOnly: false }));
const hintOf = (toolsets: string[] | 'all', hint: string) => onMcp(toolsets)(new AppError('VALIDATION_FAILED', 'Bad.', { hint })).hint;

describe('REST routes in errors, named as tools over MCP', () => {
  it('names the tool and the values its path held; the most literal route wins; a sentence keeps its full stop', () => {
    expect(hintOf('all', "Fix the fields; GET /controllers/bollinger_v1 has the config's JSON Schema and defaults.")).toBe(
      "Fix the fields; the strategies_get_controller tool (controller_name: bollinger_v1) has the config's JSON Schema and defaults.",
    );
    expect(hintOf('all', 'GET /controllers/configs lists them.')).toBe('the strategies_list_controller_configs tool lists them.');
    expect(hintOf('all', 'See GET /controllers.')).toBe('See the strategies_list_controllers tool.');
    // A name the text already gives after the route is not said twice; another parenthesis stays.
    expect(hintOf('all', 'GET /controllers (strategies_list_controllers) lists them.')).toBe('the strategies_list_controllers tool lists them.');
    expect(hintOf('all', 'GET /controllers (all) lists them.')).toBe('the strategies_list_controllers tool (all) lists them.');
    // A placeholder as written names no value; a query string does not pick the route.
    expect(hintOf('all', 'GET /controllers/{name} (or GET /scripts/{name}) has it.')).toBe('the strategies_get_controller tool (or the strategies_get_script tool) has it.');
    expect(hintOf('all', 'GET /connectors/sim/markets?limit=5 lists its pairs')).toBe('the connectors_list_markets tool (connector_name: sim, limit: 5) lists its pairs');
    expect(hintOf('all', 'find its id with GET /controllers/configs?name=…).')).toBe('find its id with the strategies_list_controller_configs tool (name: …)).');
    // Hints as the core writes them: a route with a query, a route in parentheses.
    expect(hintOf('all', 'Wait for some to finish (GET /jobs?status=running and GET /jobs?status=queued list them), or cancel some.')).toBe(
      'Wait for some to finish (the jobs_list_jobs tool (status: running) and the jobs_list_jobs tool (status: queued) list them), or cancel some.',
    );
    expect(hintOf('all', 'Read the trading rules of BTC-USDT (GET /connectors/{connector_name}/trading-rules) and adjust the order.')).toBe(
      'Read the trading rules of BTC-USDT (the connectors_get_trading_rules tool) and adjust the order.',
    );
    // Punctuation after a path is the sentence's.
    expect(hintOf('all', 'Call GET /controllers/x! Or [GET /controllers/y] or GET /controllers/z...')).toBe(
      'Call the strategies_get_controller tool (controller_name: x)! Or [the strategies_get_controller tool (controller_name: y)] or the strategies_get_controller tool (controller_name: z)...',
    );
  });

  it('leaves a route that is no tool on this surface: REST-only admin changes, tools of a toolset not enabled, pages', () => {
    expect(hintOf('all', 'An admin attaches it with PUT /accounts/desk.')).toBe('An admin attaches it with PUT /accounts/desk.');
    expect(hintOf(['trading'], 'GET /controllers/bollinger_v1 has the schema.')).toBe('GET /controllers/bollinger_v1 has the schema.');
    expect(hintOf('all', 'GET /health says so; GET /nowhere/at/all neither.')).toBe('GET /health says so; GET /nowhere/at/all neither.');
  });

  it('rewrites the message too, and keeps the code and details; an error with no route is the same object', () => {
    const rewrite = onMcp('all');
    const err = new AppError('NOT_FOUND', 'No controller named x: GET /controllers lists them.', { details: { name: 'x' } });
    const out = rewrite(err);
    expect([out.code, out.message, out.hint, out.details]).toEqual(['NOT_FOUND', 'No controller named x: the strategies_list_controllers tool lists them.', undefined, { name: 'x' }]);
    const plain = new AppError('NOT_FOUND', 'Nothing here.', { hint: 'Try again.' });
    expect(rewrite(plain)).toBe(plain);
  });

  it('rewrites the field issues\' messages, keeping their paths and the issues without a route', () => {
    const rewrite = onMcp('all');
    const issues = [
      { path: 'controllers.0.controller_name', message: 'no controller named x (GET /controllers lists them)' },
      { path: 'account_name', message: 'no account named y' },
    ];
    const out = rewrite(new AppError('VALIDATION_FAILED', 'Invalid strategy.', { details: { issues, other: 1 } }));
    expect(out.details).toEqual({ issues: [{ path: 'controllers.0.controller_name', message: 'no controller named x (the strategies_list_controllers tool lists them)' }, issues[1]], other: 1 });
  });
});
