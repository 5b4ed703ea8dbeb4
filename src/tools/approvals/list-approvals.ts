import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { paginated } from '../../core/schema.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { ApprovalOut, ApprovalStatus } from './schemas.js';

export const listApprovals = defineCommand({
  name: 'approvals_list_approvals',
  group: 'approvals',
  title: 'List approvals',
  description:
    'Lists orders parked for a person\'s approval, newest first: yours (an admin sees all). Only a different person can approve one, over REST; once approved, send exactly the same order again with its approval_id.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    status: ApprovalStatus.optional().describe('Only approvals in this state.'),
    limit: PageLimit,
    cursor: z.string().max(200).optional().describe("Opaque cursor from a previous page's pagination.next_cursor."),
  }),
  output: paginated(ApprovalOut),
  http: { method: 'GET', path: '/trading/approvals' },
  handler: async (input, ctx) => ctx.services.safety.approvals.list(ctx.principal, { status: input.status, limit: pageLimit(input.limit, ctx), cursor: input.cursor }),
});
