import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName } from '../../core/schema.js';
import { AccountOut, ConnectorAttachment } from './schemas.js';

export const createAccount = defineCommand({
  name: 'accounts_create_account',
  group: 'accounts',
  title: 'Create account',
  description:
    'Creates a trading account, optionally attaching connectors with their credentials (encrypted at rest) or paper balances. Admin only, REST only: secrets never pass through an agent.',
  risk: 'admin',
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({
    account_name: AccountName,
    connectors: z.array(ConnectorAttachment).max(50).optional().describe('Connectors to attach now; more can be added with PUT.'),
  }),
  output: AccountOut,
  http: { method: 'POST', path: '/accounts', successStatus: 201 },
  handler: async (input, ctx) => ctx.services.accounts.create(input.account_name, input.connectors ?? []),
});
