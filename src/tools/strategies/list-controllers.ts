import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { Cursor, pageOf, paginated } from '../../core/schema.js';
import { controllerOut, ControllerOut, ControllerType } from './schemas.js';

export const listControllers = defineCommand({
  name: 'strategies_list_controllers',
  group: 'strategies',
  title: 'List controllers',
  description:
    "Lists the strategy controllers this server can run (shipped and the operator's own): name, type, description, the JSON Schema of the config and the market data the default config needs. Pick one, check a config with strategies_validate_controller_config, then save it.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ type: ControllerType.optional().describe('Only this type.'), limit: PageLimit, cursor: Cursor }),
  output: paginated(ControllerOut),
  http: { method: 'GET', path: '/controllers' },
  handler: async (input, ctx) => {
    const entries = ctx.services.strategies.list('controller').filter((e) => !input.type || e.type === input.type);
    return pageOf(entries.map(controllerOut), pageLimit(input.limit, ctx), input.cursor);
  },
});
