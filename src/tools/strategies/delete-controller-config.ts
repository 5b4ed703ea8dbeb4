import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIdIn } from './schemas.js';

export const deleteControllerConfig = defineCommand({
  name: 'strategies_delete_controller_config',
  group: 'strategies',
  title: 'Delete controller config',
  description: 'Deletes a saved controller config with every version of it. Its name is free again afterwards.',
  risk: 'write',
  destructive: true,
  idempotent: false,
  openWorld: false,
  input: z.strictObject({ config_id: ConfigIdIn }),
  output: z.object({ config_id: z.string(), deleted: z.boolean() }),
  http: { method: 'DELETE', path: '/controllers/{config_id}/config' },
  handler: async (input, ctx) => {
    await ctx.services.controllerConfigs.delete(ctx.principal, input.config_id);
    return { config_id: input.config_id, deleted: true };
  },
});
