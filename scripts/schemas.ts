import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { rolloutConfigSchema } from '../src/config/schema.ts';
import { fleetSchema } from '../src/local-account/fleet.ts';

/** Every JSON Schema the project publishes, with the file it lives in. */
export function schemaFiles(): { path: string; schema: unknown }[] {
  const at = (name: string) => fileURLToPath(new URL(`../schemas/${name}`, import.meta.url));
  return [
    {
      path: at('config.schema.json'),
      schema: {
        title: 'ami-rollout configuration',
        ...z.toJSONSchema(rolloutConfigSchema, { io: 'input', unrepresentable: 'any' }),
      },
    },
    {
      path: at('fleet.schema.json'),
      schema: {
        title: 'ami-rollout local account fleet',
        ...z.toJSONSchema(fleetSchema, { io: 'input', unrepresentable: 'any' }),
      },
    },
  ];
}
