import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIn, ControllerNameIn, ValidationOut, validationOut } from './schemas.js';

export const validateControllerConfig = defineCommand({
  name: 'strategies_validate_controller_config',
  group: 'strategies',
  title: 'Validate controller config',
  description:
    "Checks a config against a controller's schema without storing anything: valid with the config as it would be stored (defaults filled in) and the market data it needs, or invalid with one issue per field path. A bad config is an answer here (valid: false), not an error.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ controller_name: ControllerNameIn, config: ConfigIn }),
  output: ValidationOut,
  http: { method: 'POST', path: '/controllers/{controller_name}/validate' },
  handler: async (input, ctx) => validationOut(ctx.services.strategies.validate('controller', input.controller_name, input.config)),
});
