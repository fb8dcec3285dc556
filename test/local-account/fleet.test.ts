import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FleetFileError, parseFleet, readFleetFile } from '../../src/local-account/fleet.ts';
import { schemaFiles } from '../../scripts/schemas.ts';

const minimal = {
  images: [{ imageId: 'ami-0a1b2c3d4e5f60001', name: 'current' }],
  launchTemplates: [{ name: 'web', imageId: 'ami-0a1b2c3d4e5f60001' }],
  autoScalingGroups: [{ name: 'web', launchTemplate: 'web', minSize: 1, maxSize: 3, desiredCapacity: 2 }],
};

const problems = (value: unknown): string[] => {
  try {
    parseFleet(value, 'test-fleet.json');
  } catch (error) {
    if (error instanceof FleetFileError) return [...error.problems];
    throw error;
  }
  return [];
};

describe('parseFleet', () => {
  it('fills in documented defaults', () => {
    const fleet = parseFleet(minimal);
    expect(fleet.accountId).toBe('123456789012');
    expect(fleet.region).toBe('us-east-1');
    expect(fleet.autoScalingGroups[0]!.launchTemplateVersion).toBe('$Default');
    expect(fleet.launchTemplates[0]!.instanceType).toBe('t3.micro');
    expect(fleet.faults).toEqual([]);
  });

  it('accepts the example fleet', async () => {
    const fleet = await readFleetFile('examples/fleet.json');
    expect(fleet.autoScalingGroups.map((g) => g.name)).toEqual(['web', 'api', 'worker']);
    expect(fleet.launchTemplates.length).toBeGreaterThanOrEqual(2);
  });

  it('fails naming the bad field and the fix for a malformed image id', () => {
    expect(problems({ ...minimal, images: [{ imageId: 'ami-XYZ', name: 'x' }] })).toContain(
      'images[0].imageId: "ami-XYZ" must be an AMI id: ami- and 8 or 17 hex digits',
    );
  });

  it('fails when a group names a launch template that is not declared', () => {
    const fleet = {
      ...minimal,
      autoScalingGroups: [{ ...minimal.autoScalingGroups[0], launchTemplate: 'api' }],
    };
    expect(problems(fleet)).toEqual([
      'autoScalingGroups[0].launchTemplate: "api" is not the name or id of a launch template declared under launchTemplates',
    ]);
  });

  it('fails when capacity is out of the group bounds', () => {
    const fleet = {
      ...minimal,
      autoScalingGroups: [{ ...minimal.autoScalingGroups[0], desiredCapacity: 5 }],
    };
    expect(problems(fleet)).toEqual([
      'autoScalingGroups[0].desiredCapacity: desiredCapacity 5 must lie between minSize 1 and maxSize 3',
    ]);
  });

  it('fails on duplicates, unknown fields and faults on undeclared groups, listing every problem', () => {
    const fleet = {
      ...minimal,
      images: [...minimal.images, ...minimal.images],
      colour: 'blue',
      faults: [{ kind: 'stallRefresh', group: 'db' }],
    };
    const found = problems(fleet);
    expect(found).toContain('images[1]: duplicate "ami-0a1b2c3d4e5f60001": each must appear once');
    expect(found.some((p) => p.includes('colour'))).toBe(true);
    expect(found).toContain('faults[0].group: group "db" is not declared under autoScalingGroups');
  });

  it('fails on an unknown fault kind', () => {
    expect(problems({ ...minimal, faults: [{ kind: 'meteorStrike' }] })[0]).toMatch(/^faults\[0\]\.kind: /);
  });

  it('says when the file cannot be read or is not JSON', async () => {
    await expect(readFleetFile('does/not/exist.json')).rejects.toThrow(
      'fleet file does/not/exist.json does not exist: check the path',
    );
  });
});

describe('schemas/fleet.schema.json', () => {
  it('is up to date with the fleet schema (run `npm run schemas` after changing it)', async () => {
    for (const { path, schema } of schemaFiles()) {
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });
});
