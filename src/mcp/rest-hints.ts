import type { AnyCommand } from '../core/command/index.js';
import { AppError } from '../core/errors.js';

interface Route {
  tool: string;
  method: string;
  pattern: RegExp;
  params: string[];
  /** Literal segments: of two routes that match a path, the more literal one is meant (/controllers/configs, not /controllers/{name}). */
  literals: number;
}

/**
 * A method and a path as error texts write them (the path ends before a space, a comma or a closing
 * mark), and the tool's name in parentheses after it when the text already gives it.
 */
const ROUTE_IN_TEXT = /\b(GET|POST|PUT|PATCH|DELETE) (\/[^\s,;:()"'`[\]!<>]*)( \([a-z_]+\))?/g;

function compile(cmd: AnyCommand): Route {
  const params: string[] = [];
  const segments = cmd.http.path.split('/').filter(Boolean);
  const source = segments
    .map((s) => {
      const m = /^\{(\w+)\}$/.exec(s);
      if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1]!);
      return '([^/?#]+)';
    })
    .join('/');
  return { tool: cmd.name, method: cmd.http.method, pattern: new RegExp(`^/${source}/?$`), params, literals: segments.length - params.length };
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Errors are written once for both faces, and their messages and hints point at REST routes ("GET
 * /controllers/bollinger_v1 has the config's JSON Schema"). A model on MCP calls tools, not routes, so
 * over MCP each route that is a tool on this surface is named as that tool, with the values its path
 * held: "the strategies_get_controller tool (controller_name: bollinger_v1)". A route that is no tool
 * here (an admin's REST-only change, /health) is left as written: it is where a human does it.
 */
export function restRoutesAsTools(commands: readonly AnyCommand[]): (err: AppError) => AppError {
  const rewrite = routesAsToolsIn(commands);
  return (err) => {
    const message = rewrite(err.message);
    const hint = err.hint === undefined ? undefined : rewrite(err.hint);
    // The field issues' messages too: "no controller named x (GET /controllers lists them)".
    const issues = (err.details as { issues?: unknown } | undefined)?.issues;
    let changed = false;
    const rewritten = Array.isArray(issues)
      ? (issues as unknown[]).map((i) => {
          const text = (i as { message?: unknown } | null)?.message;
          if (typeof text !== 'string') return i;
          const message = rewrite(text);
          if (message === text) return i;
          changed = true;
          return { ...(i as object), message };
        })
      : null;
    if (message === err.message && hint === err.hint && !changed) return err;
    const details = changed ? { ...(err.details as object), issues: rewritten } : err.details;
    return new AppError(err.code, message, { ...(hint !== undefined ? { hint } : {}), ...(details ? { details } : {}), cause: err });
  };
}

/** The same rewrite for one text. */
export function routesAsToolsIn(commands: readonly AnyCommand[]): (text: string) => string {
  const routes = commands.map(compile).sort((a, b) => b.literals - a.literals);
  return (text: string): string =>
    text.replace(ROUTE_IN_TEXT, (whole, method: string, rawPath: string, named: string | undefined) => {
      // A sentence's full stop (or an ellipsis) is not part of the path; a query string does not pick the route, it adds arguments.
      const trailing = /\.+$/.exec(rawPath)?.[0] ?? '';
      const [path = '', query = ''] = rawPath.slice(0, rawPath.length - trailing.length).split('?');
      for (const r of routes) {
        if (r.method !== method) continue;
        const m = r.pattern.exec(path);
        if (!m) continue;
        // A placeholder left as written ("{account_name}") names no value.
        const values = [...r.params.map((p, i) => [p, decoded(m[i + 1]!)] as const), ...new URLSearchParams(query).entries()].filter(([, v]) => !/^\{.*\}$/.test(v));
        const args = values.length ? ` (${values.map(([p, v]) => `${p}: ${v}`).join(', ')})` : '';
        // "GET /controllers (strategies_list_controllers)": the name in parentheses is now said once.
        const rest = named !== undefined && named !== ` (${r.tool})` ? named : '';
        return `the ${r.tool} tool${args}${trailing}${rest}`;
      }
      return whole;
    });
}
