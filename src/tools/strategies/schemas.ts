import { z } from 'zod';
import { CONTROLLER_TYPES, STRATEGY_NAME_RE } from '../../core/strategy-catalog/definition-check.js';
import { CONFIG_ID_RE } from '../../core/strategy-catalog/controller-configs.js';
import type { CatalogEntry, Validation } from '../../core/strategy-catalog/catalog.js';

const strategyName = (what: string) => z.string().max(63).regex(STRATEGY_NAME_RE, `a ${what} name such as ${what === 'controller' ? 'bollinger_v1' : 'twap_buyer_v1'}`);
export const ControllerNameIn = strategyName('controller').describe('A controller from GET /controllers, e.g. "bollinger_v1".');
export const ScriptNameIn = strategyName('script').describe('A script from GET /scripts, e.g. "twap_buyer_v1".');
export const ConfigIdIn = z.string().regex(CONFIG_ID_RE, 'a config id like cfg_…').describe('The config_id returned when the config was created.');
export const ConfigNameIn = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
  .describe('Your name for this config, unique among your configs, e.g. "btc_trend_1h".');
export const ConfigIn = z.record(z.string().max(100), z.unknown()).describe("The config's fields, as the strategy's config_schema describes them; omitted fields take their defaults.");
export const ControllerType = z.enum(CONTROLLER_TYPES);

export const DataNeedsOut = z.object({
  candles: z.array(z.object({ connector_name: z.string(), trading_pair: z.string(), interval: z.string(), bars: z.number() })),
  quotes: z.array(z.object({ connector_name: z.string(), trading_pair: z.string() })),
  warmup_bars: z.number().optional().describe('Controllers: closed candles of history the first decision needs.'),
  executors: z
    .enum(['all', 'active'])
    .optional()
    .describe("Controllers: 'active' when the controller reads only its working executors (an optimization trial then keeps none that has ended), 'all' when it reads ended ones too."),
  step_seconds: z.number().optional().describe('Scripts: seconds between two steps.'),
});

const strategyFields = {
  name: z.string(),
  description: z.string(),
  source: z.enum(['shipped', 'operator']).describe("shipped with the server, or loaded from the operator's strategies folder."),
  config_schema: z.record(z.string(), z.unknown()).describe("JSON Schema of the config (what a caller sends: defaults are optional)."),
  example_config: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('A complete, valid config: the defaults, with connector_name "sim" and trading_pair "BTC-USDT" where required. Null when other fields are required.'),
  data_needs: DataNeedsOut.nullable().describe('The market data example_config needs (candle intervals and bars, quotes).'),
};

export const ControllerOut = z.object({ ...strategyFields, type: ControllerType });
export const ScriptOut = z.object(strategyFields);

export function scriptOut(e: CatalogEntry): z.input<typeof ScriptOut> {
  return { name: e.name, description: e.description, source: e.source, config_schema: e.configSchema, example_config: e.example?.config ?? null, data_needs: e.example?.dataNeeds ?? null };
}

export function controllerOut(e: CatalogEntry): z.input<typeof ControllerOut> {
  return { ...scriptOut(e), type: e.type as z.infer<typeof ControllerType> };
}

export const ValidationOut = z.object({
  valid: z.boolean(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).describe('Why the config is refused, one entry per field (paths start with config.); empty when valid.'),
  config: z.record(z.string(), z.unknown()).nullable().describe('The config as it would be stored: defaults filled in. Null when invalid.'),
  data_needs: DataNeedsOut.nullable().describe('The market data this config needs. Null when invalid.'),
});

export function validationOut(v: Validation): z.input<typeof ValidationOut> {
  if (!v.valid) return { valid: false, issues: v.issues.map((i) => ({ path: i.path === '(root)' ? 'config' : `config.${i.path}`, message: i.message })), config: null, data_needs: null };
  return { valid: true, issues: [], config: v.config, data_needs: v.dataNeeds };
}

export const ConfigVersionOut = z.object({
  version: z.number().int(),
  config: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  created_by: z.string().describe('Who wrote this version.'),
});

export const ControllerConfigOut = z.object({
  config_id: z.string(),
  name: z.string(),
  controller_name: z.string(),
  owner: z.string().describe('The principal that created it; only it and admins see it.'),
  current_version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  version: ConfigVersionOut.describe('The current version, or the one asked for.'),
});
