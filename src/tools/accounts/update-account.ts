import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, ConnectorName } from '../../core/schema.js';
import { AccountOut, ConnectorAttachment } from './schemas.js';

export const updateAccount = defineCommand({
  name: 'accounts_update_account',
  group: 'accounts',
  title: 'Update account connectors',
  description:
    'Attaches or replaces connectors on an account (new credentials replace the old ones; paper balances are reset when given) and detaches the ones listed in remove_connectors. Admin only, REST only.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  input: z
    .strictObject({
      account_name: AccountName,
      connectors: z.array(ConnectorAttachment).max(50).optional().describe('Connectors to attach or replace.'),
      remove_connectors: z.array(ConnectorName).max(50).optional().describe('Connector names to detach, with their credentials.'),
    })
    .refine((v) => (v.connectors?.length ?? 0) + (v.remove_connectors?.length ?? 0) > 0, {
      message: 'give connectors to attach or remove_connectors to detach',
      path: ['connectors'],
    }),
  output: AccountOut,
  http: { method: 'PUT', path: '/accounts/{account_name}' },
  handler: async (input, ctx) => ctx.services.accounts.update(input.account_name, input.connectors ?? [], input.remove_connectors ?? []),
});
