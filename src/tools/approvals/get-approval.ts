import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ApprovalIdIn, ApprovalOut } from './schemas.js';

export const getApproval = defineCommand({
  name: 'approvals_get_approval',
  group: 'approvals',
  title: 'Get approval',
  description:
    'Shows one approval: the exact order it covers, its state (pending, approved, rejected, expired, used), who decided and when it expires. Poll this after a CONFIRMATION_REQUIRED refusal that named an approval_id; a person must approve it over the REST API, you cannot.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ approval_id: ApprovalIdIn }),
  output: z.object({ approval: ApprovalOut }),
  http: { method: 'GET', path: '/trading/approvals/{approval_id}' },
  handler: async (input, ctx) => ({ approval: await ctx.services.safety.approvals.get(input.approval_id, ctx.principal) }),
});
