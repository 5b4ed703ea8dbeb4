import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ExecutorIdIn, ExecutorOut, executorView } from './schemas.js';
import { findExecutor } from './get-executor.js';

export const stopExecutor = defineCommand({
  name: 'executors_stop_executor',
  group: 'executors',
  title: 'Stop executor',
  description:
    'Stops an executor early: it cancels its working orders and closes its position with a market order (close_type EARLY_STOP), or with keep_position true leaves the position open and untracked by it (POSITION_HOLD). Closing orders pass the guardrails like any close. Stopping an ended executor changes nothing.',
  risk: 'destructive',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({
    executor_id: ExecutorIdIn,
    keep_position: z.boolean().default(false).describe('true: keep the position open; false (default): close it.'),
  }),
  output: z.object({ executor: ExecutorOut, keep_position: z.boolean() }),
  http: { method: 'POST', path: '/executors/{executor_id}/stop' },
  handler: async (input, ctx) => {
    const { executors } = ctx.services;
    const row = await findExecutor(input.executor_id, ctx);
    const after = row.status === 'terminated' ? row : await executors.requestStop(row, input.keep_position, ctx.principal.name);
    return { executor: executorView(after, executors.liveReport(after.id)), keep_position: after.stopRequest?.keep_position ?? input.keep_position };
  },
});
