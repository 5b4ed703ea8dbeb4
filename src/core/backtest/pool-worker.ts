import type { MessagePort } from 'node:worker_threads';

/**
 * The tasks a strategy pool worker runs, by name (piscina calls the named export). Each receives the
 * task input and a port for progress messages; what it returns is the task's result.
 */
export interface WorkerTask<T> {
  input: T;
  port: MessagePort;
}
