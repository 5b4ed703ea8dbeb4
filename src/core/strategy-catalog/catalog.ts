import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { z } from 'zod';
import { toJsonSchema, type JsonSchema } from '../command/json-schema.js';
import { zodIssues } from '../command/execute.js';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import type { ScriptDefinition } from '../strategy/script.js';
import type { DataNeeds } from '../strategy/types.js';
import { controllerProblems, scriptProblems } from './definition-check.js';
import { importFolder } from './operator-modules.js';

export type StrategyKind = 'controller' | 'script';
export type Source = 'shipped' | 'operator';

/** The market data a config needs, on the wire. */
export interface DataNeedsOut {
  candles: Array<{ connector_name: string; trading_pair: string; interval: string; bars: number }>;
  quotes: Array<{ connector_name: string; trading_pair: string }>;
  /** Controllers: closed candles of history the first decision needs. */
  warmup_bars?: number;
  /** Controllers: 'active' when the controller reads only its working executors, 'all' when it reads ended ones too. */
  executors?: 'all' | 'active';
  /** Scripts: seconds between two steps. */
  step_seconds?: number;
}

export interface CatalogEntry {
  kind: StrategyKind;
  name: string;
  /** Controllers only. */
  type: string | null;
  description: string;
  source: Source;
  configSchema: JsonSchema;
  /**
   * A complete config made of the defaults (with connector_name "sim" and trading_pair "BTC-USDT" when
   * the config requires them) and what it needs: the intervals and bar counts a strategy reads show
   * there. Null when the config has other required fields.
   */
  example: { config: Record<string, unknown>; dataNeeds: DataNeedsOut | null } | null;
  definition: ControllerDefinition | ScriptDefinition;
}

export type Validation = { valid: true; config: Record<string, unknown>; dataNeeds: DataNeedsOut | null } | { valid: false; issues: Array<{ path: string; message: string }> };

export interface CatalogOptions {
  controllers: readonly ControllerDefinition[];
  scripts: readonly ScriptDefinition[];
  /** The operator's folder, with `controllers/` and `scripts/` inside; none: shipped strategies only. */
  dir?: string;
  logger: Logger;
}

/**
 * Every strategy the server can run: the shipped controllers and scripts, and at start the operator's
 * own modules from the strategies folder. Each is checked when it loads (a broken one is logged with its
 * file and the problem, and skipped; a second module with a taken name is refused), so what the catalog
 * lists can be described, validated against and run. Controllers and scripts have separate names.
 */
export class StrategyCatalog implements Lifecycle {
  readonly #entries = { controller: new Map<string, CatalogEntry>(), script: new Map<string, CatalogEntry>() };
  readonly #files = new Map<string, string>();

  constructor(private readonly options: CatalogOptions) {
    for (const d of options.controllers) this.#add('controller', d, 'shipped', 'shipped');
    for (const d of options.scripts) this.#add('script', d, 'shipped', 'shipped');
  }

  async start(): Promise<void> {
    const { dir, logger } = this.options;
    if (!dir) return;
    for (const kind of ['controller', 'script'] as const) {
      const check = kind === 'controller' ? controllerProblems : scriptProblems;
      for (const { file, definition } of await importFolder(join(dir, `${kind}s`), logger, kind)) {
        const problems = check(definition);
        if (problems.length) {
          logger.warn(`skipped ${kind} module ${file}: ${problems.join('; ')}`, { file, kind, problems });
          continue;
        }
        const name = (definition as { name: string }).name;
        const taken = this.#files.get(`${kind}:${name}`);
        if (taken) {
          logger.warn(`skipped ${kind} module ${file}: the name ${name} is already taken by ${taken === 'shipped' ? 'a shipped ' + kind : taken}`, { file, kind, name });
          continue;
        }
        this.#add(kind, definition as ControllerDefinition | ScriptDefinition, 'operator', file);
        logger.info(`loaded ${kind} ${name} from ${file}`, { file, kind, name });
      }
    }
  }

  list(kind: StrategyKind): CatalogEntry[] {
    return [...this.#entries[kind].values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A controller by name and, for an operator's, the file URL of its module (a worker thread imports it from there). */
  controller(name: string): { definition: ControllerDefinition; moduleUrl: string | null } | undefined {
    const entry = this.#entries.controller.get(name);
    if (!entry) return undefined;
    const file = this.#files.get(`controller:${name}`);
    return { definition: entry.definition as ControllerDefinition, moduleUrl: entry.source === 'operator' && file ? pathToFileURL(file).href : null };
  }

  /** The entry, or NOT_FOUND naming the ones there are. */
  get(kind: StrategyKind, name: string): CatalogEntry {
    const entry = this.#entries[kind].get(name);
    if (!entry) {
      const known = [...this.#entries[kind].keys()].sort();
      throw new AppError('NOT_FOUND', `No ${kind} named ${name}.`, {
        hint: `List them with GET /${kind}s. Known: ${known.slice(0, 30).join(', ') || 'none'}.`,
        details: { [`${kind}_name`]: name },
      });
    }
    return entry;
  }

  /**
   * Parses a config with the strategy's schema: its normal form (defaults filled in, as plain JSON) and
   * what it needs, or every issue with its field path. Never throws for a bad config.
   */
  validate(kind: StrategyKind, name: string, config: unknown): Validation {
    const entry = this.get(kind, name);
    let res: ReturnType<z.ZodType['safeParse']>;
    try {
      res = entry.definition.config.safeParse(config);
    } catch (err) {
      return { valid: false, issues: [{ path: '(root)', message: `the config check failed: ${err instanceof Error ? err.message : String(err)}` }] };
    }
    if (!res.success) return { valid: false, issues: zodIssues(res.error) };
    const normal = JSON.parse(JSON.stringify(res.data ?? null)) as unknown;
    if (normal === null || typeof normal !== 'object' || Array.isArray(normal)) return { valid: false, issues: [{ path: '(root)', message: 'a config must be an object' }] };
    return { valid: true, config: normal as Record<string, unknown>, dataNeeds: needsOf(entry, res.data, this.options.logger) };
  }

  #add(kind: StrategyKind, d: ControllerDefinition | ScriptDefinition, source: Source, file: string): void {
    if (this.#entries[kind].has(d.name)) throw new Error(`duplicate shipped ${kind} ${d.name}`);
    const entry: CatalogEntry = {
      kind,
      name: d.name,
      type: kind === 'controller' ? (d as ControllerDefinition).type : null,
      description: d.description,
      source,
      configSchema: toJsonSchema(d.config, 'input'),
      example: null,
      definition: d,
    };
    this.#entries[kind].set(d.name, entry);
    let v = this.validate(kind, d.name, d.example ?? {});
    if (!v.valid) {
      // Fill in the market fields the config requires, and only those: a default stays a default.
      const missing = new Set(v.issues.map((i) => i.path));
      const market = Object.fromEntries(Object.entries(EXAMPLE_MARKET).filter(([k]) => missing.has(k)));
      if (Object.keys(market).length) v = this.validate(kind, d.name, market);
    }
    if (v.valid) entry.example = { config: v.config, dataNeeds: v.dataNeeds };
    this.#files.set(`${kind}:${d.name}`, file);
  }
}

/** The market an example config names when its config requires one: the one every server has. */
const EXAMPLE_MARKET = { connector_name: 'sim', trading_pair: 'BTC-USDT' };

/** A strategy's data needs for a parsed config; null (and a log line) when its own code fails. */
function needsOf(entry: CatalogEntry, config: unknown, logger: Logger): DataNeedsOut | null {
  try {
    const needs = entry.definition.data(config as never);
    const base = wire(needs);
    if (entry.kind === 'controller') return { ...base, warmup_bars: (entry.definition as ControllerDefinition).warmupBars(config as never), executors: needs.executors ?? 'all' };
    return { ...base, step_seconds: (entry.definition as ScriptDefinition).stepSeconds(config as never) };
  } catch (err) {
    logger.warn(`${entry.kind} ${entry.name} failed to say what data a config needs`, { err });
    return null;
  }
}

function wire(n: DataNeeds): Pick<DataNeedsOut, 'candles' | 'quotes'> {
  return {
    candles: n.candles.map((c) => ({ connector_name: c.connector, trading_pair: c.tradingPair, interval: c.interval, bars: c.bars })),
    quotes: n.quotes.map((q) => ({ connector_name: q.connector, trading_pair: q.tradingPair })),
  };
}
