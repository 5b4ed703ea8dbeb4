import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountsIn, Password, RoleEnum, UserOut, Username } from './schemas.js';

export const createUser = defineCommand({
  name: 'users_create_user',
  group: 'users',
  title: 'Create user',
  description: 'Adds a user with a role (admin, trader or viewer) and optionally the accounts it is limited to; the password is stored only as a hash. Admin only, REST only.',
  risk: 'admin',
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ username: Username, password: Password, role: RoleEnum, accounts: AccountsIn.optional() }),
  output: UserOut,
  http: { method: 'POST', path: '/users', successStatus: 201 },
  handler: async (input, ctx) => ctx.services.users.create(input.username, input.password, input.role, input.accounts ?? null),
});
