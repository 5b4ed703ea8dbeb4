import { AppError, isErrorCode } from '../errors.js';

/**
 * How a pool task's error crosses back from its worker thread. A thrown error keeps only its message on
 * the way (not its class, code or hint), so an AppError is written into the message and read back on
 * the server's side: a job then shows the task's own code, message and hint instead of INTERNAL.
 */
const MARK = 'tradedesk-task-error:';

/**
 * In the worker: the error to throw for `err`. An AppError is carried as it is. Any other error of a
 * run of an operator's controller (`operatorModule` set) is that module's failure, told as one; any
 * other error of a shipped controller is ours and stays an unexpected one.
 */
export function crossingError(err: unknown, operatorModule: string | undefined): unknown {
  let e: AppError | null = err instanceof AppError ? err : null;
  if (e === null && operatorModule !== undefined && err instanceof Error) {
    e = new AppError('PRECONDITION_FAILED', `The controller module ${operatorModule} failed: ${err.message}`, {
      hint: "The controller is the operator's code (the strategies folder): fix the module and restart the server, or run a shipped controller.",
    });
  }
  if (e === null) return err;
  return new Error(MARK + JSON.stringify({ code: e.code, message: e.message, hint: e.hint ?? null }));
}

/** On the server's side: the AppError a crossing error carries, or `err` as it came. */
export function landedError(err: unknown): unknown {
  if (!(err instanceof Error) || !err.message.startsWith(MARK)) return err;
  try {
    const { code, message, hint } = JSON.parse(err.message.slice(MARK.length)) as { code: string; message: string; hint: string | null };
    if (!isErrorCode(code)) return err;
    return new AppError(code, message, hint === null ? {} : { hint });
  } catch {
    return err;
  }
}
