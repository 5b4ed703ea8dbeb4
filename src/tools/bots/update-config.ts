import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import type { BotStrategy } from '../../core/db/schema/index.js';
import { ConfigIn, ControllerNameIn, ScriptNameIn } from '../strategies/schemas.js';
import { checkControllers, checkScript, inputPaths, invalidStrategy, MAX_BOT_CONTROLLERS } from './deploy-bot.js';
import { BotIdIn, BotOut, botView, findBot } from './schemas.js';

const ChangeIn = ConfigIn.describe('The fields to change; the others keep their current values. The result is checked against the schema.');

export const updateBotConfig = defineCommand({
  name: 'bots_update_config',
  group: 'bots',
  title: 'Update bot config',
  description:
    "Changes a bot's strategy parameters: for a controllers bot, controllers lists its controllers in order (as bots_get_status shows them), each with the fields to change; for a script bot, script_config. The merged configs are checked against their schemas first. A running bot applies them at once (applied: bot; a Hummingbot bot gets its controller files rewritten and reloads them: applied: files); a stopped one keeps them for its next start (applied: stored). Another strategy needs a new bot.",
  risk: 'destructive',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z
    .strictObject({
      bot_id: BotIdIn,
      controllers: z
        .array(z.strictObject({ controller_name: ControllerNameIn, config: ChangeIn }))
        .min(1)
        .max(MAX_BOT_CONTROLLERS)
        .optional()
        .describe('Controllers bot: one entry per controller, in the bot\'s order, naming the same controller.'),
      script_name: ScriptNameIn.optional().describe('Script bot: the script it runs (optional; checked when given).'),
      script_config: ChangeIn.optional().describe('Script bot: the fields to change.'),
    })
    .superRefine((v, ctx) => {
      if ((v.controllers === undefined) === (v.script_config === undefined)) ctx.addIssue({ code: 'custom', path: ['controllers'], message: 'give controllers (a controllers bot) or script_config (a script bot)' });
    }),
  output: z.object({
    bot: BotOut,
    applied: z.enum(['bot', 'files', 'stored']).describe('bot: the running bot took the change; files: its controller files were rewritten (a Hummingbot bot reloads them); stored: kept for its next start.'),
    files: z.array(z.string()).optional().describe('applied files: the files rewritten, relative to the bot\'s instance folder.'),
  }),
  http: { method: 'PUT', path: '/bot-orchestration/bots/{bot_id}/config' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const current = row.strategy;
    let next: BotStrategy;
    if ('script' in current) {
      if (input.script_config === undefined) throw invalidStrategy([{ path: 'controllers', message: `${row.id} runs the script ${current.script.name}: send script_config` }], 'config change');
      if (input.script_name !== undefined && input.script_name !== current.script.name) throw invalidStrategy([{ path: 'script_name', message: `${row.id} runs ${current.script.name}; another script needs a new bot` }], 'config change');
      next = checkScript(ctx, current.script.name, { ...current.script.config, ...input.script_config }, 'script_name', 'script_config');
    } else {
      const given = input.controllers;
      if (given === undefined) throw invalidStrategy([{ path: 'script_config', message: `${row.id} runs controllers: send controllers` }], 'config change');
      const names = current.controllers.map((c) => c.controller_name);
      if (given.length !== names.length) throw invalidStrategy([{ path: 'controllers', message: `${row.id} runs ${names.length} controller(s) (${names.join(', ')}): send one entry each, in that order` }], 'config change');
      const wrong = given.flatMap((g, i) => (g.controller_name === names[i] ? [] : [{ path: `controllers.${i}.controller_name`, message: `the bot's controller ${i} is ${names[i]}; another controller needs a new bot` }]));
      if (wrong.length) throw invalidStrategy(wrong, 'config change');
      next = checkControllers(ctx, given.map((g, i) => ({ controller_name: g.controller_name, config: { ...current.controllers[i]!.config, ...g.config } })), (i) => `controllers.${i}`);
    }
    const { bot, applied, files } = await inputPaths((i) => ('script' in next ? 'script_config' : `controllers.${i}.config`), ctx.services.bots.updateConfig(row.id, next));
    return { bot: botView(bot), applied, ...(files ? { files } : {}) };
  },
});
