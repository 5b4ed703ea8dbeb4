import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { AccountName } from '../../core/schema.js';
import { ExecutorConfig } from '../../core/strategy/executors/configs.js';
import { planGrid } from '../../core/strategy/executors/grid-levels.js';
import { invalid } from '../../core/trading/order-plan.js';
import { DEFAULT_ACCOUNT } from '../trading/schemas.js';
import { ExecutorOut, executorView } from './schemas.js';

export const createExecutor = defineCommand({
  name: 'executors_create_executor',
  group: 'executors',
  title: 'Create executor',
  description:
    'Starts an executor on an account: a position with stop loss / take profit / time limit / trailing stop (type position), one order (order), staged entries (dca), a grid (grid) or a sliced order (twap). The server places and watches its orders, each checked by the guardrails like yours, and it survives restarts. Returns at once with its id; follow it with executors_get_executor.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  accountScope: { default: DEFAULT_ACCOUNT },
  input: z.strictObject({
    account_name: AccountName.optional().describe('Account to trade from (default "master_account").'),
    executor_config: ExecutorConfig.describe('The executor: "type" picks the kind and the fields that go with it.'),
  }),
  output: z.object({ executor: ExecutorOut }),
  http: { method: 'POST', path: '/executors', successStatus: 201 },
  handler: async (input, ctx) => {
    const { accounts, connectors, executors } = ctx.services;
    const account = input.account_name ?? DEFAULT_ACCOUNT;
    const config = input.executor_config;
    // Checked before anything starts: a typo is an answer now, not an executor that fails later.
    const view = await accounts.get(account);
    if (!view.connectors.some((c) => c.connector_name === config.connector_name)) {
      throw new AppError('PRECONDITION_FAILED', `Account ${account} has no ${config.connector_name} connector.`, {
        hint: `An admin attaches it with PUT /accounts/${account}; paper and sim connectors need no credentials.`,
        details: { issues: [{ path: 'executor_config.connector_name', message: `not attached to ${account}` }] },
      });
    }
    const info = await connectors.info(config.connector_name);
    if (info.kind === 'exchange' && info.market_type === 'perpetual' && config.leverage !== 1) {
      throw invalid('executor_config.leverage', `${config.connector_name} trades at the leverage set on the exchange, which this server does not change: leave leverage at 1 and set it on the exchange`);
    }
    const markets = await (await connectors.get(config.connector_name)).loadMarkets();
    const market = markets.find((m) => m.trading_pair === config.trading_pair && m.active);
    if (!market) {
      throw invalid('executor_config.trading_pair', `${config.connector_name} does not list ${config.trading_pair}`, `GET /connectors/${config.connector_name}/markets lists its pairs.`);
    }
    // A grid the market's rules cannot size would end FAILED at its first tick: say so now, with nothing created.
    if (config.type === 'grid') {
      const plan = planGrid(config, market.rules);
      if ('refusal' in plan) {
        throw invalid(
          'executor_config.total_amount_quote',
          plan.refusal,
          `Raise total_amount_quote to ${plan.need} or more (each further level needs about as much again), or trade a market with smaller minimums; GET /connectors/${config.connector_name}/trading-rules shows this one's.`,
        );
      }
    }
    ctx.journal = { ...ctx.journal, accountName: account };
    const row = await executors.create({ accountName: account, config, principal: ctx.principal, channel: ctx.surface.channel });
    return { executor: executorView(row, executors.liveReport(row.id)) };
  },
});
