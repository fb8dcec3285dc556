// Writes the JSON Schemas that editors use to check the rollout configuration and the fleet file, formatted as
// the rest of the repository (so `npm run lint` passes on what it writes).
// `npm test` fails when a committed schema is out of date with its zod source.
import { writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';
import { schemaFiles } from './schemas.ts';

for (const { path, schema } of schemaFiles()) {
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(JSON.stringify(schema, null, 2), { ...options, filepath: path }));
  console.log(`wrote ${path}`);
}
