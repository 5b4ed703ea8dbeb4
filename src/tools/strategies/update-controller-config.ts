import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIdIn, ConfigIn, ControllerConfigOut } from './schemas.js';

export const updateControllerConfig = defineCommand({
  name: 'strategies_update_controller_config',
  group: 'strategies',
  title: 'Update controller config',
  description:
    "Stores a new version of a saved config (the whole config, parsed with its controller's schema); earlier versions stay readable. Pass expected_version (the current_version you read) to be refused with CONFLICT if someone changed it meanwhile. A bad config changes nothing.",
  risk: 'write',
  idempotent: false,
  openWorld: false,
  input: z.strictObject({
    config_id: ConfigIdIn,
    config: ConfigIn,
    expected_version: z.number().int().min(1).max(1_000_000).optional().describe('The current_version this change was made from.'),
  }),
  output: z.object({ controller_config: ControllerConfigOut }),
  http: { method: 'PUT', path: '/controllers/{config_id}/config' },
  handler: async (input, ctx) => ({
    controller_config: await ctx.services.controllerConfigs.update(ctx.principal, input.config_id, { config: input.config, expectedVersion: input.expected_version }),
  }),
});
