import type { RequestHandler } from 'express';

/**
 * A handler built on its first request. What only some users call (the MCP endpoint, the docs UI)
 * then costs a start none of its module loading; a build that fails is tried again on the next request.
 */
export function onFirstUse(build: () => Promise<RequestHandler>): RequestHandler {
  let handler: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    handler ??= build().catch((err: unknown) => {
      handler = undefined;
      throw err;
    });
    handler.then((h) => h(req, res, next), next);
  };
}
