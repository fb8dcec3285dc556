import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { InstanceProfile, Role } from '../state.ts';
import type { Operation, ServiceDefinition } from './service.ts';

/** botocore iam 2010-05-08: instanceProfileNameType / roleNameType / pathType. */
const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;

const validation = (message: string): AwsApiError => new AwsApiError('ValidationError', message);

/**
 * IAM (query protocol, 2010-05-08, global): only what preflight reads, GetInstanceProfile. Roles and instance
 * profiles come from the fleet file (`instanceProfiles`) through `addInstanceProfile`; nothing here enforces
 * IAM policies. Errors follow the botocore model: NoSuchEntity (404) for an unknown name, ValidationError for a
 * missing or malformed one.
 */
export function iamService(account: LocalAccount): ServiceDefinition {
  const profiles = account.state.instanceProfiles;

  const roleElement = (role: Role) => ({
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
  });

  const GetInstanceProfile: Operation = (input) => {
    const name = input.optString('InstanceProfileName');
    if (name === undefined) {
      throw validation(
        "1 validation error detected: Value null at 'instanceProfileName' failed to satisfy constraint: Member must not be null",
      );
    }
    if (name.length < 1 || name.length > 128 || !NAME.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'instanceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    const profile = profiles.get(name);
    if (!profile) throw new AwsApiError('NoSuchEntity', `Instance Profile ${name} cannot be found.`, 404);
    return {
      InstanceProfile: {
        Path: profile.path,
        InstanceProfileName: profile.instanceProfileName,
        InstanceProfileId: profile.instanceProfileId,
        Arn: profile.arn,
        CreateDate: profile.createDate,
        Roles: profile.roles.map(roleElement),
      },
    };
  };

  return {
    name: 'iam',
    protocol: 'query',
    apiVersion: '2010-05-08',
    xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/',
    throttling: { code: 'Throttling', httpStatus: 400 },
    operations: { GetInstanceProfile },
  };
}

/** IAM-style unique ids: a four-letter type prefix and 17 upper-case characters (AIPA... profiles, AROA... roles). */
function iamId(prefix: 'AIPA' | 'AROA', n: number): string {
  return `${prefix}${n.toString(36).toUpperCase().padStart(17, '0')}`;
}

export interface InstanceProfileSeed {
  readonly name: string;
  /** Default `/`. */
  readonly path?: string;
  /** The role the profile holds; none when absent. */
  readonly role?: { readonly name: string; readonly path?: string };
}

/** Puts an instance profile (and its role) in place, as the fleet file declares it. */
export function addInstanceProfile(account: LocalAccount, seed: InstanceProfileSeed): InstanceProfile {
  const path = seed.path ?? '/';
  for (const [what, name] of [
    ['instance profile', seed.name],
    ['role', seed.role?.name],
  ] as const) {
    if (name !== undefined && (!NAME.test(name) || name.length > (what === 'role' ? 64 : 128))) {
      throw new Error(`${what} name "${name}" is not a valid IAM name (letters, digits and _+=,.@-)`);
    }
  }
  for (const p of [path, seed.role?.path ?? '/']) {
    if (!PATH.test(p)) throw new Error(`IAM path "${p}" must be / or start and end with /`);
  }
  const n = account.state.instanceProfiles.size + 1;
  const createDate = account.now();
  const roles: Role[] = seed.role
    ? [
        {
          roleName: seed.role.name,
          roleId: iamId('AROA', n),
          path: seed.role.path ?? '/',
          arn: `arn:aws:iam::${account.accountId}:role${seed.role.path ?? '/'}${seed.role.name}`,
          createDate,
        },
      ]
    : [];
  const profile: InstanceProfile = {
    instanceProfileName: seed.name,
    instanceProfileId: iamId('AIPA', n),
    path,
    arn: `arn:aws:iam::${account.accountId}:instance-profile${path}${seed.name}`,
    createDate,
    roles,
  };
  account.state.instanceProfiles.set(seed.name, profile);
  return profile;
}
