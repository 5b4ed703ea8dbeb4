import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AllowedImagesOut, ImagePatternIn } from './schemas.js';

export const setAllowedImages = defineCommand({
  name: 'docker_set_allowed_images',
  group: 'docker',
  title: 'Set allowed bot images',
  description:
    "Replaces the list of images bots may be deployed with (besides the server's own, always allowed). Each entry is an exact reference (hummingbot/hummingbot:2.4.0) or a prefix ending in /*, :* or @* (hummingbot/hummingbot:* is every tag). An empty list allows the server's image only. Bots already deployed are not touched.",
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ patterns: z.array(ImagePatternIn).max(100).describe('The whole new list.') }),
  output: AllowedImagesOut,
  http: { method: 'PUT', path: '/docker/allowed-images' },
  handler: async (input, ctx) => ctx.services.allowedImages.replace(input.patterns, ctx.principal.name),
});
