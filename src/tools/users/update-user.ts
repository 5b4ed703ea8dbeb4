import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountsIn, Password, RoleEnum, UserOut, Username } from './schemas.js';

export const updateUser = defineCommand({
  name: 'users_update_user',
  group: 'users',
  title: 'Update user',
  description: 'Changes a user\'s password, role and/or account list; takes effect on the very next request. The last admin cannot be demoted. Admin only, REST only.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  input: z
    .strictObject({ username: Username, password: Password.optional(), role: RoleEnum.optional(), accounts: AccountsIn.optional() })
    .refine((v) => v.password !== undefined || v.role !== undefined || v.accounts !== undefined, { message: 'give a password, a role or accounts', path: ['role'] }),
  output: UserOut,
  http: { method: 'PUT', path: '/users/{username}' },
  handler: async (input, ctx) => ctx.services.users.update(input.username, { password: input.password, role: input.role, accounts: input.accounts }),
});
