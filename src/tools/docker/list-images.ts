import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { Text } from '../../core/schema.js';
import { ImageOut } from './schemas.js';

export const listDockerImages = defineCommand({
  name: 'docker_list_images',
  group: 'docker',
  title: 'List Docker images',
  description: 'Lists the images on the Docker host (id, tags, size), those whose tag contains image_name when given.',
  risk: 'admin',
  channels: ['rest'],
  idempotent: true,
  openWorld: true,
  input: z.strictObject({ image_name: Text({ min: 1, max: 255, trim: true }).optional().describe('Keep images with a tag containing this text.') }),
  output: z.object({ data: z.array(ImageOut) }),
  http: { method: 'GET', path: '/docker/available-images' },
  handler: async (input, ctx) => ({ data: await ctx.services.docker.images(input.image_name) }),
});
