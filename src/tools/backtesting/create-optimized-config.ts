import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn } from '../jobs/schemas.js';
import { ConfigNameIn, ControllerConfigOut } from '../strategies/schemas.js';
import { MetricsOut } from './schemas.js';

export const createOptimizedConfig = defineCommand({
  name: 'backtesting_create_optimized_config',
  group: 'backtesting',
  title: 'Save optimized config',
  description:
    "Saves a trial of an ended optimization's leaderboard (the best by default, or the rank-th) as a new controller config: the base config with the trial's params, on the optimization's market, parsed by the controller's schema and stored as version 1 under the given name.",
  risk: 'write',
  idempotent: false,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    job_id: JobIdIn,
    name: ConfigNameIn,
    rank: z.number().int().min(1).max(100).default(1).describe('Leaderboard rank of the trial to save; 1 is the best.'),
  }),
  output: z.object({
    controller_config: ControllerConfigOut,
    trial: z.object({ rank: z.number().int(), trial: z.number().int(), params: z.record(z.string(), z.unknown()), metrics: MetricsOut }),
  }),
  http: { method: 'POST', path: '/backtesting/optimizations/{job_id}/save', successStatus: 201 },
  handler: async (input, ctx) => {
    const { controllerName, config, trial } = await ctx.services.optimizations.trialConfig(input.job_id, ctx.principal, input.rank);
    const controller_config = await ctx.services.controllerConfigs.create(ctx.principal, { name: input.name, controllerName, config });
    return { controller_config, trial };
  },
});
