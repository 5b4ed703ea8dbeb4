import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ApprovalIdIn, ApprovalOut, ReasonIn } from './schemas.js';

export const rejectOrder = defineCommand({
  name: 'approvals_reject_order',
  group: 'approvals',
  title: 'Reject order',
  description: 'Rejects a pending order: its requester is told it was declined and cannot place it under this approval. Admin only, REST only.',
  risk: 'admin',
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ approval_id: ApprovalIdIn, reason: ReasonIn.optional() }),
  output: z.object({ approval: ApprovalOut }),
  http: { method: 'POST', path: '/trading/approvals/{approval_id}/reject' },
  handler: async (input, ctx) => ({ approval: await ctx.services.safety.approvals.decide(input.approval_id, ctx.principal, 'rejected', input.reason ?? null) }),
});
