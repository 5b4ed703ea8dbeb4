import { createExecutor } from './create-executor.js';
import { getExecutor } from './get-executor.js';
import { getExecutorSummary } from './get-summary.js';
import { listExecutors } from './list-executors.js';
import { stopExecutor } from './stop-executor.js';

// The summary comes before the executor by id: both are GET /executors/<segment>, and routes match in order.
export const executorCommands = [createExecutor, listExecutors, getExecutorSummary, getExecutor, stopExecutor];
