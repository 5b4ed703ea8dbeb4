import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { Cursor, paginated } from '../../core/schema.js';
import { ConfigIdIn, ConfigVersionOut } from './schemas.js';

export const listConfigVersions = defineCommand({
  name: 'strategies_list_config_versions',
  group: 'strategies',
  title: 'List config versions',
  description: 'Every version of a saved controller config, newest first, with who wrote it and when: what a bot or a backtest ran with stays readable after later edits.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ config_id: ConfigIdIn, limit: PageLimit, cursor: Cursor }),
  output: paginated(ConfigVersionOut),
  http: { method: 'GET', path: '/controllers/{config_id}/config/versions' },
  handler: async (input, ctx) => ctx.services.controllerConfigs.versions(ctx.principal, input.config_id, { limit: pageLimit(input.limit, ctx), cursor: input.cursor }),
});
