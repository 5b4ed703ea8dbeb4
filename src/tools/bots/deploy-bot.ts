import { z } from 'zod';
import { defineCommand, type CommandContext } from '../../core/command/index.js';
import { BOT_ON_RESTART, BOT_RUNTIMES, type BotOwner, type BotStrategy } from '../../core/db/schema/index.js';
import { IMAGE_REF_RE } from '../../core/docker/names.js';
import { AppError } from '../../core/errors.js';
import { AccountName, Text } from '../../core/schema.js';
import { MAX_CONFIG_BYTES } from '../../core/strategy-catalog/controller-configs.js';
import type { StrategyKind } from '../../core/strategy-catalog/catalog.js';
import { ConfigIdIn, ConfigIn, ControllerNameIn, ScriptNameIn } from '../strategies/schemas.js';
import { BotIdIn, BotOut, botView } from './schemas.js';

/** Controllers one bot may run. */
export const MAX_BOT_CONTROLLERS = 20;


/** The fields every way of deploying shares: which bot, on which account, where it runs. */
export const DeployFields = {
  bot_id: BotIdIn.describe('Your id for the new bot: 1-63 lowercase letters, digits, "-" or "_"; unique for good (an archived bot keeps its id).'),
  name: Text({ min: 1, max: 100, trim: true }).optional().describe('A display name (default: the bot id).'),
  account_name: AccountName.describe('The one account the bot trades; it must be one of yours.'),
  runtime: z.enum(BOT_RUNTIMES).optional().describe('docker (a container) or child (a process beside the server); default docker when a Docker daemon answers, else child.'),
  image: z.string().max(255).regex(IMAGE_REF_RE, 'a container image reference such as tradedesk-bot:1.2').optional().describe('Container image for the docker runtime (admins only; default: the server\'s bot image).'),
  start: z.boolean().optional().describe('false: create it stopped (start it with bots_start_bot). Default true: start it and wait until it runs.'),
  on_restart: z
    .enum(BOT_ON_RESTART)
    .optional()
    .describe('What the bot does when its process restarts (a crash, a server or host restart) while its strategy runs: resume (default) carries on with its executors, their positions and resting orders; flatten closes every executor\'s position at market and cancels its orders, then starts the strategy afresh.'),
};

export const ControllerEntryIn = z.strictObject({ controller_name: ControllerNameIn, config: ConfigIn });
export const ScriptEntryIn = z.strictObject({ name: ScriptNameIn, config: ConfigIn });

type Issue = { path: string; message: string };

export function invalidStrategy(issues: Issue[], what: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid ${what}: ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}.`, {
    hint: 'Fix the fields listed in details.issues. GET /controllers/{name} and GET /scripts/{name} have each config\'s JSON Schema; POST …/validate checks one without deploying.',
    details: { issues },
  });
}

/**
 * One config checked against its strategy's schema: its stored form (defaults filled in), or issues
 * under `path` (an unknown strategy is an issue at its name's path). Never throws for bad input.
 */
export function checkConfig(ctx: CommandContext, kind: StrategyKind, name: string, config: unknown, path: string, namePath: string, issues: Issue[]): Record<string, unknown> | null {
  const { strategies } = ctx.services;
  if (!strategies.list(kind).some((e) => e.name === name)) {
    issues.push({ path: namePath, message: `no ${kind} named ${name} (GET /${kind}s lists them)` });
    return null;
  }
  const size = Buffer.byteLength(JSON.stringify(config) ?? '');
  if (size > MAX_CONFIG_BYTES) {
    issues.push({ path, message: `${size} bytes of JSON, at most ${MAX_CONFIG_BYTES}` });
    return null;
  }
  const v = strategies.validate(kind, name, config);
  if (v.valid) return v.config;
  for (const i of v.issues) issues.push({ path: i.path === '(root)' ? path : `${path}.${i.path}`, message: i.message });
  return null;
}

/** Each controller config checked, all issues reported together, paths under `base` (e.g. `controllers`). */
export function checkControllers(ctx: CommandContext, entries: ReadonlyArray<{ controller_name: string; config: unknown }>, base: (i: number) => string): BotStrategy {
  const issues: Issue[] = [];
  const controllers = entries.map((e, i) => ({ controller_name: e.controller_name, config: checkConfig(ctx, 'controller', e.controller_name, e.config, `${base(i)}.config`, `${base(i)}.controller_name`, issues) }));
  if (issues.length) throw invalidStrategy(issues, 'controller configs');
  return { controllers: controllers.map((c) => ({ controller_name: c.controller_name, config: c.config! })) };
}

export function checkScript(ctx: CommandContext, name: string, config: unknown, namePath: string, configPath: string): BotStrategy {
  const issues: Issue[] = [];
  const checked = checkConfig(ctx, 'script', name, config, configPath, namePath, issues);
  if (!checked) throw invalidStrategy(issues, 'script config');
  return { script: { name, config: checked } };
}

/**
 * The orchestrator's checks place a config's issues under `strategy.` (its own form of the strategy);
 * this names them as the request did: `configPath(i)` is where the i-th config came from.
 */
export async function inputPaths<T>(configPath: (i: number) => string, run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const issues = (err.details as { issues?: Issue[] } | undefined)?.issues;
    if (!Array.isArray(issues)) throw err;
    const renamed = issues.map((i) => ({ ...i, path: i.path.replace(/^strategy\.(?:controllers\.(\d+)|script)\.config(?=\.|$)/, (_, n: string | undefined) => configPath(n === undefined ? 0 : Number(n))) }));
    throw new AppError(err.code, err.message, { ...(err.hint ? { hint: err.hint } : {}), details: { ...(err.details as object), issues: renamed }, cause: err });
  }
}

/** The saved configs (the caller's own, or any for an admin) as controllers; another's id is NOT_FOUND as the store says. */
export async function savedControllers(ctx: CommandContext, ids: readonly string[], path: string, controllerName?: string): Promise<Array<{ controller_name: string; config: Record<string, unknown> }>> {
  const out: Array<{ controller_name: string; config: Record<string, unknown> }> = [];
  const issues: Issue[] = [];
  for (const [i, id] of ids.entries()) {
    const saved = await ctx.services.controllerConfigs.get(ctx.principal, id);
    if (controllerName !== undefined && saved.controller_name !== controllerName) issues.push({ path: `${path}.${i}`, message: `config ${id} is for ${saved.controller_name}, not ${controllerName}` });
    out.push({ controller_name: saved.controller_name, config: saved.version.config });
  }
  if (issues.length) throw invalidStrategy(issues, 'controller configs');
  return out;
}

export type DeployInput = { bot_id: string; name?: string | undefined; account_name: string; runtime?: 'child' | 'docker' | undefined; image?: string | undefined; start?: boolean | undefined; on_restart?: 'resume' | 'flatten' | undefined };

/**
 * Everything that can be checked before a bot exists is checked here, so that a mistake is an answer
 * now and not a bot that fails later: the account and its connectors, the image rule, and (by the
 * caller, before this) every config against its schema. Then the orchestrator deploys it, owned by the
 * caller as executors are: it trades as bot:<id> with the deployer's role and accounts, re-read while the
 * deployer is a stored user.
 */
export async function deployBot(ctx: CommandContext, input: DeployInput, strategy: BotStrategy, connectorPaths: (i: number) => string) {
  const { accounts, bots, users } = ctx.services;
  const p = ctx.principal;
  if (input.image !== undefined) {
    if (input.runtime === 'child') throw invalidStrategy([{ path: 'image', message: 'only the docker runtime runs an image' }], 'deployment');
    if (p.role !== 'admin') {
      throw new AppError('POLICY_DENIED', `${p.name} may not choose a bot image: only an admin may run another image than the server's.`, {
        hint: "Leave image out to run the server's bot image.",
        details: { issues: [{ path: 'image', message: 'admins only' }] },
      });
    }
    // Docker runs whatever image it is told, as root on the host: only those the admin listed.
    await ctx.services.allowedImages.check(input.image, 'image');
  }
  const account = await accounts.get(input.account_name);
  const attached = new Set(account.connectors.map((c) => c.connector_name));
  const configs = 'script' in strategy ? [strategy.script.config] : strategy.controllers.map((c) => c.config);
  const missing = configs.flatMap((c, i) => (typeof c.connector_name === 'string' && !attached.has(c.connector_name) ? [{ path: `${connectorPaths(i)}.connector_name`, message: `${c.connector_name} is not attached to ${input.account_name}` }] : []));
  if (missing.length) {
    // A 400 naming the config's field: the fix is in this request (another connector or account), or an attachment first.
    throw new AppError('VALIDATION_FAILED', `Account ${input.account_name} lacks a connector the strategy trades on: ${missing.map((m) => m.message).join('; ')}.`, {
      hint: `Name a connector the account has, or have an admin attach it with PUT /accounts/${input.account_name} (paper and sim connectors need no credentials).`,
      details: { issues: missing },
    });
  }
  ctx.journal = { ...ctx.journal, accountName: input.account_name };
  const owner: BotOwner = { name: p.name, role: p.role, accounts: p.accounts ? [...p.accounts] : null, stored: (await users.principal(p.name)) !== null };
  const row = await inputPaths(connectorPaths, bots.deploy({
    id: input.bot_id,
    ...(input.name !== undefined ? { name: input.name } : {}),
    accountName: input.account_name,
    owner,
    channel: ctx.surface.channel,
    ...(input.runtime !== undefined ? { runtime: input.runtime } : {}),
    ...(input.image !== undefined ? { image: input.image } : {}),
    strategy,
    ...(input.start !== undefined ? { start: input.start } : {}),
    ...(input.on_restart !== undefined ? { onRestart: input.on_restart } : {}),
  }));
  return { bot: botView(row) };
}

export const deployBotCommand = defineCommand({
  name: 'bots_deploy_bot',
  group: 'bots',
  title: 'Deploy bot',
  description:
    'Creates a bot that trades one account on its own, and starts it (start: false creates it stopped). It runs either controllers (controllers: [{controller_name, config}], or saved configs by controller_config_ids) or one script (script: {name, config}); give exactly one. Every config is checked first: a bad field is an error naming its path. The bot\'s orders pass the guardrails as bot:<bot_id> with your rights. Follow it with bots_get_status.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  input: z
    .strictObject({
      ...DeployFields,
      controllers: z.array(ControllerEntryIn).min(1).max(MAX_BOT_CONTROLLERS).optional().describe('Controllers to run, each with its config (strategies_list_controllers has their schemas).'),
      controller_config_ids: z.array(ConfigIdIn).min(1).max(MAX_BOT_CONTROLLERS).optional().describe('Saved controller configs to run (strategies_list_controller_configs lists yours).'),
      script: ScriptEntryIn.optional().describe('One script to run instead of controllers (strategies_list_scripts lists them).'),
    })
    .superRefine((v, ctx) => {
      const given = (['controllers', 'controller_config_ids', 'script'] as const).filter((k) => v[k] !== undefined);
      if (given.length !== 1) ctx.addIssue({ code: 'custom', path: given.length ? [given[1]!] : ['controllers'], message: 'give exactly one of controllers, controller_config_ids or script' });
    }),
  output: z.object({ bot: BotOut }),
  http: { method: 'POST', path: '/bot-orchestration/deploy', successStatus: 201 },
  handler: async (input, ctx) => {
    if (input.script) {
      const strategy = checkScript(ctx, input.script.name, input.script.config, 'script.name', 'script.config');
      return deployBot(ctx, input, strategy, () => 'script.config');
    }
    if (input.controllers) {
      const strategy = checkControllers(ctx, input.controllers, (i) => `controllers.${i}`);
      return deployBot(ctx, input, strategy, (i) => `controllers.${i}.config`);
    }
    const saved = await savedControllers(ctx, input.controller_config_ids!, 'controller_config_ids');
    // Saved configs passed their schema when stored; checked again, since the controller may have changed since.
    const strategy = checkControllers(ctx, saved, (i) => `controller_config_ids.${i}`);
    return deployBot(ctx, input, strategy, (i) => `controller_config_ids.${i}`);
  },
});
