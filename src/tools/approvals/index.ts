import { approveOrder } from './approve-order.js';
import { getApproval } from './get-approval.js';
import { listApprovals } from './list-approvals.js';
import { rejectOrder } from './reject-order.js';

export const approvalCommands = [listApprovals, getApproval, approveOrder, rejectOrder];
