import { AwsCallError, RolloutError, TransientAwsError } from '../errors.ts';

/**
 * Turning SDK exceptions into ours. The SDK already retries throttling and 5xx (its standard retry mode);
 * what reaches us after that is a `TransientAwsError`, which the state machine retries with back-off, so
 * throttling never shows up as a failed rollout.
 */

/** The AWS error code of an SDK exception (`InvalidAMIID.NotFound`, `ParameterNotFound`...). */
export function awsErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const record = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [record.Code, record.code, record.name]) {
    if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
  }
  return undefined;
}

/** True when the error code is `code`, allowing for the SDK's `...Fault` / `...Exception` class names. */
export function hasAwsErrorCode(error: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(error);
  if (!code) return false;
  const bare = code.replace(/(Fault|Exception)$/, '');
  return codes.some((c) => c === code || c === bare || c.replace(/(Fault|Exception)$/, '') === bare);
}

const transientCodes = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'Throttled',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ResourceContention',
  'ResourceContentionFault',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const networkErrors = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export function isTransientAwsError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as {
    $retryable?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
    code?: unknown;
  };
  if (e.$retryable) return true;
  const code = awsErrorCode(error);
  if (code && transientCodes.has(code)) return true;
  if (typeof e.code === 'string' && networkErrors.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'server' || (status !== undefined && status >= 500);
}

/**
 * The error to throw for an SDK failure no branch of the caller expected: ours unchanged, transient ones as
 * `TransientAwsError`, the rest as `fallback` (or `AwsCallError`) naming the operation.
 */
export function translateAwsError(
  error: unknown,
  operation: string,
  fallback: (message: string, options: { cause: unknown }) => RolloutError = (m, o) => new AwsCallError(m, o),
): RolloutError {
  if (error instanceof RolloutError) return error;
  const code = awsErrorCode(error) ?? 'UnknownError';
  const message = error instanceof Error ? error.message : String(error);
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${operation} failed transiently (${code}): ${message}`, { cause: error });
  }
  return fallback(`${operation} failed (${code}): ${message}`, { cause: error });
}
