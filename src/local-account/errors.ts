/**
 * An error the local account answers with, in AWS's own terms: the error code a client matches on, the HTTP
 * status AWS uses for it, and whether the caller (Sender) or the service (Receiver) is at fault.
 */
export class AwsApiError extends Error {
  override readonly name = 'AwsApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
    readonly fault: 'Sender' | 'Receiver' = httpStatus >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

/** A request the service does not understand (unknown action, missing parameter). */
export const invalidAction = (action: string, service: string): AwsApiError =>
  new AwsApiError(
    'InvalidAction',
    `The action ${action} is not valid for this web service (${service}).`,
    400,
  );

export const missingParameter = (name: string): AwsApiError =>
  new AwsApiError('MissingParameter', `The request must contain the parameter ${name}.`, 400);
