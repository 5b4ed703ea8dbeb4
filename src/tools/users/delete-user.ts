import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { Username } from './schemas.js';

export const deleteUser = defineCommand({
  name: 'users_delete_user',
  group: 'users',
  title: 'Delete user',
  description: 'Removes a user; their credentials stop working at once. The last admin cannot be deleted. Admin only, REST only.',
  risk: 'admin',
  destructive: true,
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ username: Username }),
  output: z.object({ username: z.string(), deleted: z.boolean() }),
  http: { method: 'DELETE', path: '/users/{username}' },
  handler: async (input, ctx) => {
    await ctx.services.users.delete(input.username);
    return { username: input.username, deleted: true };
  },
});
