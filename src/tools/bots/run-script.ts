import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIn, ScriptNameIn } from '../strategies/schemas.js';
import { checkScript, DeployFields, deployBot } from './deploy-bot.js';
import { BotOut } from './schemas.js';

export const runScript = defineCommand({
  name: 'bots_run_script',
  group: 'bots',
  title: 'Run script',
  description:
    'Runs a script as a new bot on an account: the script (strategies_list_scripts lists them) with its config, checked against the script\'s schema first (a bad field is an error naming its path). It starts at once unless start is false, and trades as bot:<bot_id> with your rights. Follow it with bots_get_status.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  input: z.strictObject({
    script_name: ScriptNameIn,
    config: ConfigIn,
    ...DeployFields,
  }),
  output: z.object({ bot: BotOut }),
  http: { method: 'POST', path: '/scripts/run', successStatus: 201 },
  handler: async (input, ctx) => {
    const strategy = checkScript(ctx, input.script_name, input.config, 'script_name', 'config');
    return deployBot(ctx, input, strategy, () => 'config');
  },
});
