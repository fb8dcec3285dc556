// Writes the JSON Schemas that editors use to check the fleet file (and, later, the rollout config).
// `npm test` fails when a committed schema is out of date with its zod source.
import { writeFile } from 'node:fs/promises';
import { schemaFiles } from './schemas.ts';

for (const { path, schema } of schemaFiles()) {
  await writeFile(path, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${path}`);
}
