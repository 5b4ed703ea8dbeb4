import { z } from 'zod';
import { AppError, defineCommand } from '../../core/command/index.js';
import { ConnectorName, Cursor, Limit, pageOf, paginated, QueryList, TradingPair } from '../../core/schema.js';
import { TradingRulesOut, rulesOut } from './schemas.js';

export const getTradingRules = defineCommand({
  name: 'connectors_get_trading_rules',
  group: 'connectors',
  title: 'Get trading rules',
  description:
    'Returns the order rules of a connector\'s markets: minimum and maximum order size, price tick, amount step, minimum notional and maximum leverage. Read them before placing an order so the amount and price are valid. Live exchanges are asked over the network.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    connector_name: ConnectorName,
    trading_pairs: QueryList(TradingPair).optional().describe('Only these pairs (repeat the parameter or separate with commas); all pairs when omitted.'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: paginated(TradingRulesOut).extend({ connector_name: z.string() }),
  http: { method: 'GET', path: '/connectors/{connector_name}/trading-rules' },
  handler: async (input, ctx) => {
    const connector = await ctx.services.connectors.get(input.connector_name);
    const markets = await connector.loadMarkets();
    let selected = markets;
    if (input.trading_pairs?.length) {
      const wanted = new Set(input.trading_pairs);
      selected = markets.filter((m) => wanted.has(m.trading_pair));
      const missing = [...wanted].filter((p) => !selected.some((m) => m.trading_pair === p));
      if (missing.length) {
        throw new AppError('NOT_FOUND', `${input.connector_name} does not list ${missing.join(', ')}.`, {
          hint: `GET /connectors/${input.connector_name}/markets lists its pairs.`,
          details: { missing },
        });
      }
    }
    return { connector_name: input.connector_name, ...pageOf(selected.map(rulesOut), input.limit ?? 100, input.cursor) };
  },
});
