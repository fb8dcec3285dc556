import { fileURLToPath } from 'node:url';

/** The example fleet: what the emulator serves, and what a rehearsal runs on, when no file is given. */
export const exampleFleetPath = fileURLToPath(new URL('../../examples/fleet.json', import.meta.url));

/** The example rollout configuration, which describes the example fleet. */
export const exampleConfigPath = fileURLToPath(
  new URL('../../examples/rollout.config.json', import.meta.url),
);
