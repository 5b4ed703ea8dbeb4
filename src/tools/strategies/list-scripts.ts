import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { Cursor, pageOf, paginated } from '../../core/schema.js';
import { scriptOut, ScriptOut } from './schemas.js';

export const listScripts = defineCommand({
  name: 'strategies_list_scripts',
  group: 'strategies',
  title: 'List scripts',
  description:
    "Lists the scripts this server can run (shipped and the operator's own): one-file strategies that place orders themselves, such as twap_buyer_v1 and portfolio_rebalancer_v1, each with the JSON Schema of its config and the market data the default config needs.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ limit: PageLimit, cursor: Cursor }),
  output: paginated(ScriptOut),
  http: { method: 'GET', path: '/scripts' },
  handler: async (input, ctx) => pageOf(ctx.services.strategies.list('script').map(scriptOut), pageLimit(input.limit, ctx), input.cursor),
});
