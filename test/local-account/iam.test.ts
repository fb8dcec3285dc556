import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  createLocalAccountFromFleet,
  FleetFileError,
  inProcessClientConfig,
  parseFleet,
} from '../../src/local-account/index.ts';

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => ({
      name: e.name,
      status: e.$metadata.httpStatusCode,
      message: e.message,
    }),
  );

describe('IAM GetInstanceProfile (query protocol, 2010-05-08)', () => {
  it('returns the profile and its role, as the fleet file declares them, to the SDK IAM client', async () => {
    const account = await createLocalAccountFromFleet(
      parseFleet({
        accountId: '111122223333',
        instanceProfiles: [{ name: 'web', path: '/app/', roleName: 'web-role', rolePath: '/roles/' }],
        images: [{ imageId: 'ami-0a1b2c3d4e5f60001', name: 'golden' }],
        launchTemplates: [{ name: 'web', imageId: 'ami-0a1b2c3d4e5f60001', instanceProfile: 'web' }],
      }),
    );
    const iam = new IAMClient(inProcessClientConfig(account));
    const { InstanceProfile } = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'web' }));
    expect(InstanceProfile).toMatchObject({
      Path: '/app/',
      InstanceProfileName: 'web',
      Arn: 'arn:aws:iam::111122223333:instance-profile/app/web',
      Roles: [
        { RoleName: 'web-role', Path: '/roles/', Arn: 'arn:aws:iam::111122223333:role/roles/web-role' },
      ],
    });
    expect(InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[0-9A-Z]{17}$/);
    const template = [...account.state.launchTemplates.values()][0]!;
    expect(template.versions.get(1)?.data.IamInstanceProfile).toEqual({ Name: 'web' });
  });

  it('answers NoSuchEntity (404) for an unknown profile and ValidationError for a malformed name', async () => {
    const account = await createLocalAccountFromFleet(parseFleet({}));
    const iam = new IAMClient({ ...inProcessClientConfig(account), maxAttempts: 1 });
    expect(await errorOf(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'nope' })))).toEqual({
      name: 'NoSuchEntityException',
      status: 404,
      message: 'Instance Profile nope cannot be found.',
    });
    expect(
      await errorOf(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'no spaces' }))),
    ).toMatchObject({ name: 'ValidationError', status: 400, message: /instanceProfileName/ });
  });

  it('refuses a fleet whose launch template names a profile it does not declare', () => {
    expect(() =>
      parseFleet({
        images: [{ imageId: 'ami-0a1b2c3d4e5f60001', name: 'golden' }],
        launchTemplates: [{ name: 'web', imageId: 'ami-0a1b2c3d4e5f60001', instanceProfile: 'ghost' }],
      }),
    ).toThrow(FleetFileError);
  });
});
