import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ApprovalIdIn, ApprovalOut } from './schemas.js';

export const getApproval = defineCommand({
  name: 'approvals_get_approval',
  group: 'approvals',
  title: 'Get approval',
  description:
    'Shows one approval: the order it covers, its state, who decided, when it expires. Poll it after a CONFIRMATION_REQUIRED refusal that named an approval_id; only a different person can approve it, over REST.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ approval_id: ApprovalIdIn }),
  output: z.object({ approval: ApprovalOut }),
  http: { method: 'GET', path: '/trading/approvals/{approval_id}' },
  handler: async (input, ctx) => ({ approval: await ctx.services.safety.approvals.get(input.approval_id, ctx.principal) }),
});
