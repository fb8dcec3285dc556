import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import { InstanceProfileNotFoundError } from '../errors.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** An instance profile and the roles it hands to EC2 (IAM allows at most one). */
export interface InstanceProfileFacts {
  readonly name: string;
  readonly arn: string;
  readonly roleArns: readonly string[];
}

/**
 * The profile a launch template names, by ARN or name. GetInstanceProfile takes only the name: it is the last
 * part of the ARN (`arn:aws:iam::111122223333:instance-profile/path/NAME`); names are unique in an account.
 */
export async function describeInstanceProfile(
  iam: IAMClient,
  reference: { readonly arn?: string; readonly name?: string },
): Promise<InstanceProfileFacts> {
  const name = reference.name ?? reference.arn?.split('/').at(-1) ?? '';
  const shown = reference.arn ?? name;
  try {
    const { InstanceProfile } = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
    return {
      name: InstanceProfile?.InstanceProfileName ?? name,
      arn: InstanceProfile?.Arn ?? shown,
      roleArns: (InstanceProfile?.Roles ?? []).flatMap((r) => (r.Arn ? [r.Arn] : [])),
    };
  } catch (error) {
    if (hasAwsErrorCode(error, 'NoSuchEntity')) {
      throw new InstanceProfileNotFoundError(`instance profile ${shown} does not exist`, { cause: error });
    }
    throw translateAwsError(error, `GetInstanceProfile ${name}`);
  }
}
