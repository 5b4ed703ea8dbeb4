import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageOf, paginated, Text } from '../../core/schema.js';
import { ConnectorKindEnum, ConnectorOut, MarketTypeEnum, connectorOut } from './schemas.js';
import { pageLimit, PageCursor, PageLimit } from '../../core/pagination.js';

export const listConnectors = defineCommand({
  name: 'connectors_list_connectors',
  group: 'connectors',
  title: 'List connectors',
  description:
    'The connectors this server trades on: every ccxt exchange (spot and perpetual), a paper twin of each, and the offline "sim". Filter by kind, market type or search; a name from here is the connector_name everywhere else.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    kind: ConnectorKindEnum.optional().describe('Only connectors of this kind.'),
    market_type: MarketTypeEnum.optional().describe('Only spot or only perpetual connectors.'),
    search: Text({ max: 64 }).optional().describe('Case-insensitive substring of the name or display name.'),
    limit: PageLimit,
    cursor: PageCursor,
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
    return pageOf(all.map(connectorOut), pageLimit(input.limit, ctx), input.cursor);
  },
});
