import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { AccountName, NonNegativeDecimalIn } from '../../core/schema.js';
import { BalanceOut } from './schemas.js';
import { Connector } from '../fields.js';

export const setPaperBalances = defineCommand({
  name: 'accounts_set_paper_balances',
  group: 'accounts',
  title: 'Set paper balances',
  description:
    'Replaces the paper balances of a sim or *_paper_trade connector on an account (assets left out become 0). Refused while the connector has open orders, whose reserved funds would be lost. Admin only, REST only.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({
    account_name: AccountName,
    connector_name: Connector,
    balances: z
      .record(z.string().regex(/^[A-Z0-9]{1,20}$/, 'an asset symbol in capitals'), NonNegativeDecimalIn)
      .describe('Asset → amount, e.g. {"USDT": 10000, "BTC": 1}.'),
  }),
  output: z.object({ account_name: z.string(), connector_name: z.string(), balances: z.array(BalanceOut) }),
  http: { method: 'PUT', path: '/accounts/{account_name}/paper-balances' },
  handler: async (input, ctx) => {
    const { accounts, connectors, db } = ctx.services;
    const info = await connectors.info(input.connector_name);
    if (info.kind === 'exchange') {
      throw new AppError('VALIDATION_FAILED', `Invalid input: connector_name: ${input.connector_name} is a live exchange; its balances are the exchange's.`, {
        details: { issues: [{ path: 'connector_name', message: 'not a sim or paper connector' }] },
      });
    }
    const view = await accounts.get(input.account_name);
    if (!view.connectors.some((c) => c.connector_name === input.connector_name)) {
      throw new AppError('PRECONDITION_FAILED', `Account ${input.account_name} has no ${input.connector_name} connector.`, { hint: `Attach it with PUT /accounts/${input.account_name} first.` });
    }
    await db.transaction((tx) => accounts.ledger.set(tx as unknown as typeof db, input.account_name, input.connector_name, input.balances));
    const balances = await accounts.ledger.balances(input.account_name, input.connector_name);
    return {
      account_name: input.account_name,
      connector_name: input.connector_name,
      balances: balances.map((b) => ({ asset: b.asset, total: Number(b.total), available: Number(b.available), locked: Number(b.locked) })),
    };
  },
});
