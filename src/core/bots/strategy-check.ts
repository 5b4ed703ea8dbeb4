import type { BotStrategy } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Validation } from '../strategy-catalog/catalog.js';

/** The catalog's check of one strategy config (StrategyCatalog.validate). */
export interface StrategyValidator {
  validate(kind: 'controller' | 'script', name: string, config: unknown): Validation;
  /** A strategy's catalog entry (a controller's type is written into a Hummingbot controller file); throws for an unknown name. */
  get?(kind: 'controller' | 'script', name: string): { type: string | null };
}

/** At most this many controllers in one bot. */
const MAX_CONTROLLERS = 20;

/**
 * A bot's strategy checked against the catalog's schemas, in its normal form (defaults filled in), or
 * VALIDATION_FAILED with every issue's path under `strategy.` (an unknown controller or script is
 * NOT_FOUND, from the catalog).
 */
export function checkStrategy(catalog: StrategyValidator, strategy: BotStrategy): BotStrategy {
  const issues: Array<{ path: string; message: string }> = [];
  const under = (prefix: string, v: Validation): Record<string, unknown> => {
    if (v.valid) return v.config;
    for (const i of v.issues) issues.push({ path: i.path === '(root)' ? prefix : `${prefix}.${i.path}`, message: i.message });
    return {};
  };
  let normal: BotStrategy;
  if ('controllers' in strategy) {
    if (!strategy.controllers.length || strategy.controllers.length > MAX_CONTROLLERS) {
      throw invalid([{ path: 'strategy.controllers', message: `between 1 and ${MAX_CONTROLLERS} controllers` }]);
    }
    normal = {
      controllers: strategy.controllers.map((c, i) => ({ controller_name: c.controller_name, config: under(`strategy.controllers.${i}.config`, catalog.validate('controller', c.controller_name, c.config)) })),
    };
  } else {
    normal = { script: { name: strategy.script.name, config: under('strategy.script.config', catalog.validate('script', strategy.script.name, strategy.script.config)) } };
  }
  if (issues.length) throw invalid(issues);
  return normal;
}

/**
 * The ids a bot gives its controllers (src/bot/host.ts): the controller's name, or `<name>_<n>` (n from 1,
 * its place in the list) when the bot runs that controller more than once.
 */
export function controllerIds(names: readonly string[]): string[] {
  return names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}_${i + 1}`));
}

/**
 * The config RPC's `params` that turn `from` into `to`: one `[key, value]` per top-level config field
 * that differs, keyed as the bot reads them: the field's name for a script or a bot of one controller,
 * `<controller id>.<field>` when it runs several. A field left out of `to` is sent as null. Changing
 * which controllers or which script run is not a config change: it needs a new deploy.
 */
export function configParams(from: BotStrategy, to: BotStrategy): Array<[string, unknown]> {
  const pairs: Array<{ prefix: string; a: Record<string, unknown>; b: Record<string, unknown> }> = [];
  if ('controllers' in from && 'controllers' in to) {
    const same = from.controllers.length === to.controllers.length && from.controllers.every((c, i) => c.controller_name === to.controllers[i]!.controller_name);
    if (!same) throw notAConfigChange(`the controllers (${names(from)}) cannot change to (${names(to)}) on a deployed bot`);
    const ids = controllerIds(from.controllers.map((c) => c.controller_name));
    const one = from.controllers.length === 1;
    from.controllers.forEach((c, i) => pairs.push({ prefix: one ? '' : `${ids[i]}.`, a: c.config, b: to.controllers[i]!.config }));
  } else if ('script' in from && 'script' in to) {
    if (from.script.name !== to.script.name) throw notAConfigChange(`the script ${from.script.name} cannot change to ${to.script.name} on a deployed bot`);
    pairs.push({ prefix: '', a: from.script.config, b: to.script.config });
  } else {
    throw notAConfigChange('a bot deployed with controllers keeps controllers, and one with a script keeps its script');
  }
  const params: Array<[string, unknown]> = [];
  for (const { prefix, a, b } of pairs) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) params.push([`${prefix}${key}`, b[key] ?? null]);
    }
  }
  return params;
}

const names = (s: BotStrategy) => ('controllers' in s ? s.controllers.map((c) => c.controller_name).join(', ') : s.script.name);

const invalid = (issues: Array<{ path: string; message: string }>) =>
  new AppError('VALIDATION_FAILED', `Invalid strategy: ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}.`, {
    hint: 'Fix the fields listed in details.issues; GET /controllers/{name} (or /scripts/{name}) has the config\'s JSON Schema.',
    details: { issues },
  });

const notAConfigChange = (why: string) =>
  new AppError('VALIDATION_FAILED', `Not a config change: ${why}.`, {
    hint: 'Deploy a new bot (or archive this one and deploy it again) to run another strategy.',
    details: { issues: [{ path: 'strategy', message: why }] },
  });

/** What the orchestrator needs to know of accounts: the connectors attached to one (null: no such account). */
export interface AccountConnectors {
  connectorsOf(accountName: string): Promise<readonly string[] | null>;
  /** The pairs a connector lists, or null when that cannot be told now (an exchange out of reach): then the bot finds out. */
  pairsOf?(connector: string): Promise<readonly string[] | null>;
}

/**
 * Refuses, before anything is created or launched, a bot on an account that does not exist (NOT_FOUND
 * naming `account_name`) or whose strategy trades on a connector the account lacks (VALIDATION_FAILED
 * with the config's `connector_name` path under `strategy.`): either would be a bot that starts and then
 * has every order refused.
 */
export async function checkAccount(accounts: AccountConnectors, accountName: string, strategy: BotStrategy): Promise<void> {
  const attached = await accounts.connectorsOf(accountName);
  if (attached === null) {
    throw new AppError('NOT_FOUND', `There is no account named ${accountName}.`, {
      hint: 'GET /accounts lists the accounts; create one with POST /accounts.',
      details: { account_name: accountName, issues: [{ path: 'account_name', message: `no account named ${accountName}` }] },
    });
  }
  const configs = 'script' in strategy ? [{ path: 'strategy.script.config', config: strategy.script.config }] : strategy.controllers.map((c, i) => ({ path: `strategy.controllers.${i}.config`, config: c.config }));
  const issues = configs.flatMap(({ path, config }) =>
    typeof config.connector_name === 'string' && !attached.includes(config.connector_name) ? [{ path: `${path}.connector_name`, message: `${config.connector_name} is not attached to ${accountName}` }] : [],
  );
  if (issues.length) {
    throw new AppError('VALIDATION_FAILED', `Account ${accountName} lacks a connector the strategy trades on: ${issues.map((i) => i.message).join('; ')}.`, {
      hint: `Attach it to the account (PUT /accounts/${accountName}; paper and sim connectors need no credentials), or name a connector the account has.`,
      details: { issues },
    });
  }
}

/**
 * Refuses a bot whose strategy reads or trades a pair its connector does not list (VALIDATION_FAILED on
 * the config's `trading_pair`, or the config itself when the pair is derived): such a bot would start
 * and then fail every step. The pairs are the strategy's data needs, as the catalog states them.
 */
export async function checkPairs(catalog: StrategyValidator, accounts: AccountConnectors, strategy: BotStrategy): Promise<void> {
  if (!accounts.pairsOf) return;
  const configs =
    'script' in strategy
      ? [{ path: 'strategy.script.config', kind: 'script' as const, name: strategy.script.name, config: strategy.script.config }]
      : strategy.controllers.map((c, i) => ({ path: `strategy.controllers.${i}.config`, kind: 'controller' as const, name: c.controller_name, config: c.config }));
  const issues: Array<{ path: string; message: string }> = [];
  const unlisted = new Set<string>();
  for (const { path, kind, name, config } of configs) {
    const v = catalog.validate(kind, name, config);
    if (!v.valid || !v.dataNeeds) continue;
    const wanted = new Map<string, { connector: string; pair: string }>();
    for (const n of [...v.dataNeeds.candles, ...v.dataNeeds.quotes]) wanted.set(`${n.connector_name} ${n.trading_pair}`, { connector: n.connector_name, pair: n.trading_pair });
    for (const { connector, pair } of wanted.values()) {
      const listed = await accounts.pairsOf(connector);
      if (listed === null || listed.includes(pair)) continue;
      issues.push({ path: config.trading_pair === pair ? `${path}.trading_pair` : path, message: `${connector} does not list ${pair}` });
      unlisted.add(connector);
    }
  }
  if (issues.length) {
    throw new AppError('VALIDATION_FAILED', `The strategy reads a pair its connector does not list: ${issues.map((i) => i.message).join('; ')}.`, {
      hint: `${[...unlisted].map((c) => `GET /connectors/${c}/markets`).join(' and ')} ${unlisted.size === 1 ? 'lists its' : 'list their'} pairs.`,
      details: { issues },
    });
  }
}
