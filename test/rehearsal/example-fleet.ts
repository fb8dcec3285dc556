/**
 * The example config and fleet, and the helpers the rehearsal scenario tests share: one rehearsal through the
 * real definition on them, and what the account's groups run afterwards.
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfig } from '../../src/config/schema.ts';
import type { Fault } from '../../src/local-account/faults.ts';
import { parseFleet, type Fleet, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';

export const readExample = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));
export const exampleConfig = readExample('rollout.config.json');
export const exampleFleet = readExample('fleet.json');
export const fleet: Fleet = parseFleet(exampleFleet, 'examples/fleet.json');
export const config: RolloutConfig = parseConfig(exampleConfig, 'examples/rollout.config.json');
export const PREVIOUS_IMAGE = 'ami-0a1b2c3d4e5f60001';
export const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';

/** One rehearsal of NEW_IMAGE (unless told otherwise) on the example config and fleet (unless told otherwise). */
export const run = (options: {
  faults?: Fault[];
  config?: RolloutConfig;
  fleet?: Fleet;
  imageId?: string;
  prepare?: (account: LocalAccount) => void;
}): Promise<Rehearsal> =>
  rehearse({
    config: options.config ?? config,
    fleet: options.fleet ?? fleet,
    imageId: options.imageId ?? NEW_IMAGE,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.prepare ? { prepare: options.prepare } : {}),
  });

/** Group name -> image id -> number of InService instances, read from the account's own data. */
export function inServiceImages(account: LocalAccount): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const [name, group] of account.state.autoScalingGroups) {
    const images: Record<string, number> = {};
    for (const id of group.instanceIds) {
      const instance = account.state.instances.get(id);
      if (instance?.lifecycleState !== 'InService') continue;
      images[instance.imageId] = (images[instance.imageId] ?? 0) + 1;
    }
    result[name] = images;
  }
  return result;
}
