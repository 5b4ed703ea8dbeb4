import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AllowedImagesOut } from './schemas.js';

export const getAllowedImages = defineCommand({
  name: 'docker_get_allowed_images',
  group: 'docker',
  title: 'Get allowed bot images',
  description: "The images bots may be deployed with: the server's own bot image, always, and the admin's list (exact references, or prefixes ending in *).",
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: false,
  input: z.strictObject({}),
  output: AllowedImagesOut,
  http: { method: 'GET', path: '/docker/allowed-images' },
  handler: async (_input, ctx) => ctx.services.allowedImages.view(),
});
