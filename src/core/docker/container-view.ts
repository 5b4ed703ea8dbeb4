import type Docker from 'dockerode';
import { BOT_LABEL, MANAGED_LABEL } from '../bots/docker-runtime.js';

/** A container as the docker commands show it. */
export interface ContainerView {
  id: string;
  name: string;
  image: string;
  /** Docker's state: created, running, paused, restarting, exited, dead. */
  state: string;
  /** Docker's status line ("Up 3 minutes", "Exited (1) 2 seconds ago"). */
  status: string;
  created_at: string;
  /** Created by this server (label `tradedesk.managed=true`). */
  managed: boolean;
  /** The bot it runs (label `tradedesk.bot`), null for any other container. */
  bot_id: string | null;
  /** How it ended; null while it runs. */
  exit_code: number | null;
  /** Its last log lines (stdout and stderr), oldest first; listed for ended containers. */
  last_logs?: string[];
}

/** The container's name without docker's leading slash. */
export const nameOf = (names: readonly string[] | undefined) => (names?.[0] ?? '').replace(/^\//, '');

const EXITED = /^Exited \((-?\d+)\)/;

export function viewOfInfo(c: Docker.ContainerInfo): ContainerView {
  const labels = c.Labels ?? {};
  const m = EXITED.exec(c.Status ?? '');
  return {
    id: c.Id.slice(0, 12),
    name: nameOf(c.Names),
    image: c.Image,
    state: c.State,
    status: c.Status,
    created_at: new Date(c.Created * 1000).toISOString(),
    managed: labels[MANAGED_LABEL] === 'true',
    bot_id: labels[BOT_LABEL] ?? null,
    exit_code: m ? Number(m[1]) : null,
  };
}

export function viewOfInspect(i: Docker.ContainerInspectInfo): ContainerView {
  const labels = i.Config.Labels ?? {};
  const running = i.State.Running || i.State.Restarting || i.State.Paused;
  return {
    id: i.Id.slice(0, 12),
    name: i.Name.replace(/^\//, ''),
    image: i.Config.Image,
    state: i.State.Status,
    status: running ? `Up since ${i.State.StartedAt}` : i.State.Status === 'created' ? 'Created' : `Exited (${i.State.ExitCode}) at ${i.State.FinishedAt}`,
    created_at: new Date(i.Created).toISOString(),
    managed: labels[MANAGED_LABEL] === 'true',
    bot_id: labels[BOT_LABEL] ?? null,
    exit_code: running || i.State.Status === 'created' ? null : i.State.ExitCode,
  };
}
