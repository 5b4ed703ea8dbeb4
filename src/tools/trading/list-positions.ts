import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { positionView } from '../../core/trading/order-view.js';
import { Filters, PositionOut } from './schemas.js';

export const listPositions = defineCommand({
  name: 'trading_list_positions',
  group: 'trading',
  title: 'List positions',
  description: 'Lists open perpetual positions with size, side, entry and mark price, unrealized and realized PnL, leverage and margin.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject(Filters),
  output: z.object({ data: z.array(PositionOut) }),
  http: { method: 'GET', path: '/trading/positions' },
  handler: async (input, ctx) => ({ data: (await ctx.services.trading.positions({ ...input, accounts: scopeList(ctx.principal) })).map((p) => positionView(p.row, p.mark, p.unrealized)) }),
});
