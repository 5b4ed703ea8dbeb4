import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIdIn, ControllerNameIn } from '../strategies/schemas.js';
import { checkControllers, DeployFields, deployBot, MAX_BOT_CONTROLLERS, savedControllers } from './deploy-bot.js';
import { BotOut } from './schemas.js';

export const deployControllers = defineCommand({
  name: 'bots_deploy_controllers',
  group: 'bots',
  title: 'Deploy saved controller configs',
  description:
    'Deploys a bot that runs one or more of your saved configs of one controller (strategies_list_controller_configs lists them, strategies_create_controller_config saves one) on an account, and starts it unless start is false. Each config is checked against the controller\'s schema first. The bot trades as bot:<bot_id> with your rights. Follow it with bots_get_status.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  input: z.strictObject({
    controller_name: ControllerNameIn,
    config_ids: z.array(ConfigIdIn).min(1).max(MAX_BOT_CONTROLLERS).describe('Saved configs of this controller, each run by the bot.'),
    ...DeployFields,
  }),
  output: z.object({ bot: BotOut }),
  http: { method: 'POST', path: '/controllers/{controller_name}/deploy', successStatus: 201 },
  handler: async (input, ctx) => {
    const saved = await savedControllers(ctx, input.config_ids, 'config_ids', input.controller_name);
    const strategy = checkControllers(ctx, saved, (i) => `config_ids.${i}`);
    return deployBot(ctx, input, strategy, (i) => `config_ids.${i}`);
  },
});
