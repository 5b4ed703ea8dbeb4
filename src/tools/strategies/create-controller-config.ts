import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIn, ConfigNameIn, ControllerConfigOut, ControllerNameIn } from './schemas.js';

export const createControllerConfig = defineCommand({
  name: 'strategies_create_controller_config',
  group: 'strategies',
  title: 'Create controller config',
  description:
    "Saves a named config for a controller as version 1, after parsing it with the controller's schema (defaults filled in). A bad config is refused with the field paths and nothing is stored. Names are unique among your configs.",
  risk: 'write',
  idempotent: false,
  openWorld: false,
  input: z.strictObject({ controller_name: ControllerNameIn, name: ConfigNameIn, config: ConfigIn }),
  output: z.object({ controller_config: ControllerConfigOut }),
  http: { method: 'POST', path: '/controllers/{controller_name}/configs', successStatus: 201 },
  handler: async (input, ctx) => ({
    controller_config: await ctx.services.controllerConfigs.create(ctx.principal, { name: input.name, controllerName: input.controller_name, config: input.config }),
  }),
});
