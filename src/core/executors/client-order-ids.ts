import { createHash } from 'node:crypto';

/** Every order of one executor starts with this: short, within the order path's id alphabet. */
export function orderIdPrefix(executorId: string): string {
  return `x-${createHash('sha256').update(executorId).digest('base64url').slice(0, 16)}-`;
}

/** The client order id of an executor's `seq`-th order: the same after a restart, so a re-send is a replay. */
export function clientOrderId(executorId: string, seq: number): string {
  return `${orderIdPrefix(executorId)}${seq}`;
}
