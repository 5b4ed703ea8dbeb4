import { AppError } from '../../errors.js';

import type { CcxtModule } from './ccxt-loader.js';

/**
 * Maps a ccxt error to our codes. Order matters: ccxt's classes nest (RequestTimeout is a
 * NetworkError, OrderNotFound an InvalidOrder), so the most specific come first. The exchange's own
 * text goes in details.upstream_message: it is outside data, never a message of ours.
 */
export function mapCcxtError(ccxt: CcxtModule, err: unknown, exchange: string): AppError {
  if (err instanceof AppError) return err;
  const upstream = err instanceof Error ? err.message.slice(0, 500) : String(err);
  const details = { exchange, upstream_error: err instanceof Error ? err.constructor.name : 'unknown', upstream_message: upstream };
  const is = (cls: unknown) => typeof cls === 'function' && err instanceof (cls as new (...a: never[]) => unknown);
  if (is(ccxt.AuthenticationError) || is(ccxt.PermissionDenied) || is(ccxt.AccountNotEnabled) || is(ccxt.AccountSuspended)) {
    return new AppError('PRECONDITION_FAILED', `${exchange} refused the account's credentials.`, {
      hint: 'Check the API key, secret and permissions, then update them with PUT /accounts/{account_name}.',
      details,
      cause: err,
    });
  }
  if (is(ccxt.OrderNotFound)) return new AppError('NOT_FOUND', `${exchange} does not know this order.`, { details, cause: err });
  if (is(ccxt.BadSymbol)) return new AppError('NOT_FOUND', `${exchange} does not list this market.`, { hint: 'List the markets with GET /connectors/{name}/markets.', details, cause: err });
  if (is(ccxt.InsufficientFunds)) return new AppError('UPSTREAM_REJECTED', `${exchange} rejected the order: insufficient funds.`, { hint: 'Check the balances, or reduce the amount.', details, cause: err });
  if (is(ccxt.InvalidOrder) || is(ccxt.BadRequest)) return new AppError('UPSTREAM_REJECTED', `${exchange} rejected the request as invalid.`, { hint: 'Check the amount and price against the trading rules.', details, cause: err });
  if (is(ccxt.NotSupported)) return new AppError('NOT_SUPPORTED', `${exchange} does not support this operation.`, { details, cause: err });
  if (is(ccxt.RateLimitExceeded) || is(ccxt.DDoSProtection)) return new AppError('RATE_LIMITED', `${exchange} is rate limiting requests.`, { hint: 'Wait a few seconds and retry.', details, cause: err });
  if (is(ccxt.RequestTimeout)) return new AppError('TIMEOUT', `${exchange} did not answer in time.`, { hint: 'Retry later; the exchange may be slow or unreachable.', details, cause: err });
  if (is(ccxt.NetworkError)) return unavailable(exchange, details, err);
  if (is(ccxt.ExchangeError)) return new AppError('UPSTREAM_REJECTED', `${exchange} returned an error.`, { details, cause: err });
  return new AppError('INTERNAL', `Unexpected error talking to ${exchange}.`, { details: { exchange }, cause: err });
}

export function unavailable(exchange: string, details: Record<string, unknown>, cause?: unknown): AppError {
  return new AppError('UPSTREAM_UNAVAILABLE', `${exchange} cannot be reached.`, {
    hint: 'The exchange is offline or this machine has no route to it. Retry later, or use the built-in "sim" connector, which works offline.',
    details,
    cause,
  });
}
