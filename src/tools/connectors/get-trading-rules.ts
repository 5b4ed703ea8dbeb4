import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { pageOf, paginated, QueryList, TradingPair } from '../../core/schema.js';
import { TradingRulesOut, rulesOut } from './schemas.js';
import { pageLimit, PageCursor, PageLimit } from '../../core/pagination.js';
import { Connector } from '../fields.js';

export const getTradingRules = defineCommand({
  name: 'connectors_get_trading_rules',
  group: 'connectors',
  title: 'Get trading rules',
  // Bots read them too: a grid executor sizes its levels to them.
  channels: ['rest', 'mcp', 'bot'],
  description:
    'The order rules of a connector\'s markets: min and max order size, price tick, amount step, min notional, max leverage. Read them before ordering so amount and price are valid.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    connector_name: Connector,
    trading_pairs: QueryList(TradingPair).optional().describe('Only these pairs (default all).'),
    limit: PageLimit,
    cursor: PageCursor,
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
    return { connector_name: input.connector_name, ...pageOf(selected.map(rulesOut), pageLimit(input.limit, ctx), input.cursor) };
  },
});
