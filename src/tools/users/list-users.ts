import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { UserOut } from './schemas.js';

export const listUsers = defineCommand({
  name: 'users_list_users',
  group: 'users',
  title: 'List users',
  description: 'Lists the users allowed to call this server, with their roles and account limits. Admin only, REST only.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({}),
  output: z.object({ data: z.array(UserOut) }),
  http: { method: 'GET', path: '/users' },
  handler: async (_input, ctx) => ({ data: await ctx.services.users.list() }),
});
