import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ParameterUpdateError } from '../errors.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** The parameter's value, or undefined when it does not exist. */
export async function getParameterValue(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value;
  } catch (error) {
    if (hasAwsErrorCode(error, 'ParameterNotFound')) return undefined;
    throw translateAwsError(error, `GetParameter ${name}`);
  }
}

/** Creates or overwrites a String parameter. */
export async function putParameterValue(
  ssm: SSMClient,
  name: string,
  value: string,
): Promise<number | undefined> {
  try {
    const { Version } = await ssm.send(
      new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
    );
    return Version;
  } catch (error) {
    throw translateAwsError(error, `PutParameter ${name}=${value}`, (m, o) => new ParameterUpdateError(m, o));
  }
}
