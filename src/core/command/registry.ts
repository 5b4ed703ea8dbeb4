import type { AnyCommand } from './types.js';

export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+){2,}$/;
export const NAME_MAX = 40;
/** The verbs a command name may use, so that names stay predictable for models and people. */
export const VERBS = [
  'list', 'get', 'search', 'create', 'update', 'delete', 'set', 'clear', 'start', 'stop', 'deploy',
  'place', 'cancel', 'close', 'run', 'preview', 'remove', 'pull', 'add', 'approve', 'reject', 'validate', 'archive',
] as const;

export class RegistryError extends Error {}

export interface Registry {
  readonly commands: readonly AnyCommand[];
  get(name: string): AnyCommand | undefined;
  toolsets(): string[];
}

/** Path parameters (`{name}`) of a binding's path. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([a-z_][a-z0-9_]*)\}/g)].map((m) => m[1]!);
}

/**
 * Builds the registry and refuses, at boot, anything that would make the faces disagree: duplicate or
 * badly formed names, a name outside its group, two commands on one route, or a path parameter that is
 * not an input field.
 */
export function createRegistry(commands: readonly AnyCommand[]): Registry {
  const byName = new Map<string, AnyCommand>();
  const routes = new Map<string, string>();
  for (const cmd of commands) {
    const n = cmd.name;
    if (byName.has(n)) throw new RegistryError(`duplicate command name ${n}`);
    if (!NAME_PATTERN.test(n) || n.length > NAME_MAX) {
      throw new RegistryError(`command name ${n} must be snake_case <group>_<verb>_<noun>, at most ${NAME_MAX} characters`);
    }
    if (!n.startsWith(`${cmd.group}_`)) throw new RegistryError(`command ${n} must start with its group ${cmd.group}_`);
    const verb = n.slice(cmd.group.length + 1).split('_')[0]!;
    if (!(VERBS as readonly string[]).includes(verb)) throw new RegistryError(`command ${n} uses verb "${verb}", not one of ${VERBS.join(', ')}`);
    const shape = cmd.input.shape as Record<string, unknown>;
    for (const p of pathParams(cmd.http.path)) {
      if (!(p in shape)) throw new RegistryError(`command ${n}: path parameter {${p}} is not an input field`);
    }
    const route = `${cmd.http.method} ${cmd.http.path.replace(/\{[^}]+\}/g, '{}')}`;
    const clash = routes.get(route);
    if (clash) throw new RegistryError(`commands ${clash} and ${n} share the route ${route}`);
    routes.set(route, n);
    byName.set(n, cmd);
  }
  return {
    commands: [...commands],
    get: (name) => byName.get(name),
    toolsets: () => [...new Set(commands.map((c) => c.group))].sort(),
  };
}
