/**
 * Targets a benchmark prints its figures against (from the issue that asked for them), each marked
 * met / not met. A goal only reads a figure measured in the same run; it never fails the run.
 */
import { fmt, printTable, round } from './harness.js';

export interface Goal {
  what: string;
  value: number;
  op: '>=' | '<=';
  limit: number;
  /** 'x' for a ratio against the baseline, '' for a plain count. */
  unit: 'x' | '';
  /** null when the figure could not be measured. */
  met: boolean | null;
  note?: string;
}

export function goal(what: string, value: number, op: Goal['op'], limit: number, unit: Goal['unit'] = 'x', note?: string): Goal {
  const met = Number.isFinite(value) ? (op === '>=' ? value >= limit : value <= limit) : null;
  return { what, value, op, limit, unit, met, ...(note ? { note } : {}) };
}

export const verdict = (g: Goal) => (g.met === null ? 'n/a' : g.met ? 'met' : 'NOT MET');

export function printGoals(head: string, goals: Goal[]): void {
  printTable(
    [head, 'value', 'goal', 'verdict', ''],
    goals.map((g) => [g.what, Number.isFinite(g.value) ? `${fmt(g.value, g.unit === 'x' ? 2 : 1)}${g.unit}` : 'n/a', `${g.op} ${g.limit}${g.unit}`, verdict(g), g.note ?? '']),
  );
}

export const goalJson = (g: Goal) => ({ what: g.what, value: round(g.value, 3), goal: `${g.op} ${g.limit}${g.unit}`, met: g.met, ...(g.note ? { note: g.note } : {}) });
