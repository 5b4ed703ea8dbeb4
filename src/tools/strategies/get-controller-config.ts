import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { QueryInt } from '../../core/schema.js';
import { ConfigIdIn, ControllerConfigOut } from './schemas.js';

export const getControllerConfig = defineCommand({
  name: 'strategies_get_controller_config',
  group: 'strategies',
  title: 'Get controller config',
  description: 'One saved controller config with its current version, or an earlier version when `version` is given (every version stays readable).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ config_id: ConfigIdIn, version: QueryInt(1, 1_000_000).optional().describe('An earlier version; default the current one.') }),
  output: z.object({ controller_config: ControllerConfigOut }),
  http: { method: 'GET', path: '/controllers/{config_id}/config' },
  handler: async (input, ctx) => ({ controller_config: await ctx.services.controllerConfigs.get(ctx.principal, input.config_id, input.version) }),
});
