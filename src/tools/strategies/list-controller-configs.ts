import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { paginated } from '../../core/schema.js';
import { ConfigNameIn, ControllerConfigOut, ControllerNameIn } from './schemas.js';

export const listControllerConfigs = defineCommand({
  name: 'strategies_list_controller_configs',
  group: 'strategies',
  title: 'List controller configs',
  description: 'Lists saved controller configs, newest first, each with its current version: yours (an admin sees all). Filter by controller or by name.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    controller_name: ControllerNameIn.optional(),
    name: ConfigNameIn.optional().describe('Only the config with this name.'),
    limit: PageLimit,
    cursor: z.string().max(200).optional().describe("The previous page's pagination.next_cursor."),
  }),
  output: paginated(ControllerConfigOut),
  http: { method: 'GET', path: '/controllers/configs' },
  handler: async (input, ctx) =>
    ctx.services.controllerConfigs.list(ctx.principal, { controllerName: input.controller_name, name: input.name, limit: pageLimit(input.limit, ctx), cursor: input.cursor }),
});
