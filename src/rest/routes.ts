import { Router, type Request } from 'express';
import { AppError, channelsOf, execute, pathParams, type Registry, type Surface } from '../core/command/index.js';
import type { Services } from '../core/services.js';

const REST_SURFACE: Surface = { channel: 'rest', toolsets: 'all', readOnly: false };

/** `/accounts/{account_name}` → `/accounts/:account_name` */
export function expressPath(path: string): string {
  return path.replace(/\{([a-z_][a-z0-9_]*)\}/g, ':$1');
}

/**
 * One route per command, derived from its binding. The input is the path parameters merged with the
 * query string (GET, DELETE) or the JSON body (POST, PUT, PATCH); everything else is execute()'s job.
 */
export function commandRoutes(registry: Registry, services: Services): Router {
  const router = Router();
  for (const cmd of registry.commands) {
    if (!channelsOf(cmd).includes('rest')) continue;
    const method = cmd.http.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    const params = pathParams(cmd.http.path);
    router[method](expressPath(cmd.http.path), async (req, res) => {
      const input = assembleInput(req, cmd.http.method, params);
      const output = await execute(registry, cmd.name, input, {
        services,
        principal: res.locals.principal,
        surface: REST_SURFACE,
        requestId: res.locals.requestId,
        logger: services.logger,
      });
      res.status(cmd.http.successStatus ?? 200).json(output);
    });
  }
  return router;
}

function assembleInput(req: Request, method: string, params: string[]): Record<string, unknown> {
  const fromBody = method !== 'GET' && method !== 'DELETE';
  const source: unknown = fromBody ? (req.body ?? {}) : req.query;
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw new AppError('VALIDATION_FAILED', 'The request body must be a JSON object.', { details: { issues: [{ path: '(body)', message: 'expected an object' }] } });
  }
  const input: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  for (const p of params) {
    const value = req.params[p];
    if (p in input && input[p] !== value) {
      throw new AppError('VALIDATION_FAILED', `${p} is given in the path and differs in the ${fromBody ? 'body' : 'query'}.`, {
        details: { issues: [{ path: p, message: 'conflicts with the path parameter' }] },
      });
    }
    input[p] = value;
  }
  return input;
}
