import { describe, expect, it } from 'vitest';
import { hasAwsErrorCode, isTransientAwsError, translateAwsError } from '../../src/adapters/aws-error.ts';
import { ImageShareError, LaunchTemplateNotFoundError } from '../../src/errors.ts';

const sdkError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    ...extra,
  });

describe('translateAwsError', () => {
  it('turns throttling into TransientAwsError, for the state machine to retry', () => {
    for (const code of ['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'Throttled']) {
      expect(translateAwsError(sdkError(code), 'op').name).toBe('TransientAwsError');
    }
  });

  it('turns 5xx and ResourceContention into TransientAwsError', () => {
    expect(
      translateAwsError(
        sdkError('InternalError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }),
        'op',
      ).name,
    ).toBe('TransientAwsError');
    expect(translateAwsError(sdkError('ResourceContentionFault', { $fault: 'server' }), 'op').name).toBe(
      'TransientAwsError',
    );
    expect(isTransientAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it("uses the step's error class for other failures, naming the operation and the AWS code", () => {
    const error = translateAwsError(
      sdkError('AuthFailure'),
      'ModifyImageAttribute ami-1',
      (m, o) => new ImageShareError(m, o),
    );
    expect(error).toBeInstanceOf(ImageShareError);
    expect(error.message).toBe('ModifyImageAttribute ami-1 failed (AuthFailure): AuthFailure happened');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('falls back to AwsCallError', () => {
    expect(translateAwsError(sdkError('AccessDenied'), 'op').name).toBe('AwsCallError');
  });

  it('passes our own errors through unchanged', () => {
    const ours = new LaunchTemplateNotFoundError('gone');
    expect(translateAwsError(ours, 'op')).toBe(ours);
  });
});

describe('hasAwsErrorCode', () => {
  it("matches the wire code and the SDK's Fault/Exception class name alike", () => {
    expect(hasAwsErrorCode(sdkError('InstanceRefreshInProgressFault'), 'InstanceRefreshInProgress')).toBe(
      true,
    );
    expect(hasAwsErrorCode(sdkError('InstanceRefreshInProgress'), 'InstanceRefreshInProgress')).toBe(true);
    expect(hasAwsErrorCode(sdkError('InvalidAMIID.NotFound'), 'InvalidAMIID.Malformed')).toBe(false);
  });
});
