import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { Cursor, Limit, pageOf, paginated, Text } from '../../core/schema.js';
import { ConnectorKindEnum, ConnectorOut, MarketTypeEnum, connectorOut } from './schemas.js';

export const listConnectors = defineCommand({
  name: 'connectors_list_connectors',
  group: 'connectors',
  title: 'List connectors',
  description:
    'Lists the exchanges this server can trade on: every ccxt exchange (spot and perpetual), a paper-trading twin of each, and the built-in offline "sim" exchange. Filter by kind, market type or a search string; use a name from here as connector_name everywhere else.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    kind: ConnectorKindEnum.optional().describe('Only connectors of this kind.'),
    market_type: MarketTypeEnum.optional().describe('Only spot or only perpetual connectors.'),
    search: Text({ max: 64 }).optional().describe('Case-insensitive substring of the name or display name.'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: paginated(ConnectorOut),
  http: { method: 'GET', path: '/connectors' },
  handler: async (input, ctx) => {
    const q = input.search?.toLowerCase();
    const all = (await ctx.services.connectors.list()).filter(
      (c) =>
        (!input.kind || c.kind === input.kind) &&
        (!input.market_type || c.market_type === input.market_type) &&
        (!q || c.name.includes(q) || c.display_name.toLowerCase().includes(q)),
    );
    return pageOf(all.map(connectorOut), input.limit ?? 100, input.cursor);
  },
});
