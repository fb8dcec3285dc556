import {
  GetParameterCommand,
  PutParameterCommand,
  type ParameterType,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ParameterUpdateError } from '../errors.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** What a write keeps of the parameter it overwrites. */
export interface ParameterFacts {
  readonly value: string;
  /** `text` or `aws:ec2:image` (SSM's DataType). */
  readonly dataType: string;
  readonly type: ParameterType;
}

/** The parameter's value and types, or undefined when it does not exist. */
export async function getParameter(ssm: SSMClient, name: string): Promise<ParameterFacts | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    if (Parameter?.Value === undefined) return undefined;
    return {
      value: Parameter.Value,
      dataType: Parameter.DataType ?? 'text',
      type: (Parameter.Type as ParameterType | undefined) ?? 'String',
    };
  } catch (error) {
    if (hasAwsErrorCode(error, 'ParameterNotFound')) return undefined;
    throw translateAwsError(error, `GetParameter ${name}`);
  }
}

/** The parameter's value, or undefined when it does not exist. */
export async function getParameterValue(ssm: SSMClient, name: string): Promise<string | undefined> {
  return (await getParameter(ssm, name))?.value;
}

/**
 * Creates or overwrites a String parameter with an explicit `DataType`: an overwrite that leaves it out may
 * reset it (moto resets it to `text`), and `aws:ec2:image` is what lets launch templates resolve the parameter.
 * With `aws:ec2:image`, SSM checks the image after answering (it needs ec2:DescribeImages), so a 200 does not
 * prove the write.
 */
export async function putParameterValue(
  ssm: SSMClient,
  name: string,
  value: string,
  dataType: string,
): Promise<number | undefined> {
  try {
    const { Version } = await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'String',
        DataType: dataType,
        Overwrite: true,
      }),
    );
    return Version;
  } catch (error) {
    throw translateAwsError(
      error,
      `PutParameter ${name}=${value} (DataType ${dataType})`,
      (m, o) => new ParameterUpdateError(m, o),
    );
  }
}
