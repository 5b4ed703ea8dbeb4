import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, ConnectorName, TradingPair } from '../../core/schema.js';
import { DEFAULT_ACCOUNT } from './schemas.js';

export const setLeverage = defineCommand({
  name: 'trading_set_leverage',
  group: 'trading',
  title: 'Set leverage',
  description:
    'Sets the leverage of new positions on a perpetual pair (sim and paper perpetual connectors); orders that give none use it. An open position keeps its leverage: close it first. Bounded by the account\'s max leverage and pair lists.',
  risk: 'write',
  idempotent: true,
  openWorld: false,
  accountScope: { default: DEFAULT_ACCOUNT },
  input: z.strictObject({
    account_name: AccountName.optional().describe('Account (default "master_account").'),
    connector_name: ConnectorName.describe('A perpetual connector, e.g. "sim_perpetual".'),
    trading_pair: TradingPair,
    leverage: z.number().int().min(1).max(125).describe('Leverage for new positions, 1-125 (and at most the market\'s maximum).'),
  }),
  output: z.object({ account_name: z.string(), connector_name: z.string(), trading_pair: z.string(), leverage: z.number().int(), previous_leverage: z.number().int() }),
  http: { method: 'POST', path: '/trading/leverage' },
  trade: (input) => ({ kind: 'leverage', account: input.account_name ?? DEFAULT_ACCOUNT, connector: input.connector_name, pair: input.trading_pair, leverage: input.leverage, reducing: false }),
  handler: async (input, ctx) => {
    const req = { ...input, account_name: input.account_name ?? DEFAULT_ACCOUNT };
    const { previous } = await ctx.services.trading.setLeverage(req);
    return { account_name: req.account_name, connector_name: req.connector_name, trading_pair: req.trading_pair, leverage: req.leverage, previous_leverage: previous };
  },
});
