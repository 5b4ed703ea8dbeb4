// The pool worker when the server runs from its TypeScript sources (tests, tsx): registers the tsx
// loader in the worker thread, then hands piscina the same named tasks. A build loads pool-worker.js.
import { register } from 'tsx/esm/api';

register();
const tasks = await import('./pool-worker.ts');

export const backtest = tasks.backtest;
export const trials = tasks.trials;
