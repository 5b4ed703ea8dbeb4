import { z } from 'zod';
import { AccountName, Text } from '../../core/schema.js';

export const Username = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only').describe('Login name.');
export const Password = Text({ max: 256 }).min(12, 'at least 12 characters').describe('At least 12 characters; stored only as a hash.');
export const RoleEnum = z.enum(['admin', 'trader', 'viewer']).describe('admin: everything; trader: trading under the guardrails, no credentials or policy; viewer: read only.');
export const AccountsIn = z
  .array(AccountName)
  .min(1, 'at least one account; null for all')
  .max(200)
  .nullable()
  .describe('The accounts the user may see and trade (orders, positions, balances, portfolio, audit, kill switches); null = all. Ignored for admins.');
export const UserOut = z.object({
  username: z.string(),
  role: RoleEnum,
  accounts: z.array(z.string()).nullable().describe('The accounts the user is limited to; null = all.'),
  created_at: z.string(),
  updated_at: z.string(),
});
