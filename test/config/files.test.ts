import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locateJsonError } from '../../src/config/json-file.ts';
import { loadConfig } from '../../src/config/load.ts';
import { FleetFileError, readFleetFile } from '../../src/local-account/fleet.ts';

/** The files a person writes, read by the CLI: the rollout configuration and the fleet file. */

let dir = '';
const file = async (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
const example = (name: string) => readFile(join(import.meta.dirname, '../../examples', name), 'utf8');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ami-rollout-files-'));
});

describe.each([
  ['configuration file', loadConfig, 'rollout.config.json'],
  ['fleet file', readFleetFile, 'fleet.json'],
] as const)('reading a %s', (what, read, exampleName) => {
  it('fails for a missing path, naming the file and the fix', async () => {
    const path = join(dir, 'nope.json');
    await expect(read(path)).rejects.toThrow(`${what} ${path} does not exist: check the path`);
  });

  it('fails for a directory, naming it and the fix', async () => {
    await expect(read(dir)).rejects.toThrow(
      `${what} ${dir} is a directory: give the path of the JSON file itself`,
    );
  });

  it('fails for an empty file, pointing at the example', async () => {
    const path = await file(`empty-${exampleName}`, '  \n');
    await expect(read(path)).rejects.toThrow(
      `${what} ${path} is empty: it must hold one JSON object (examples/${exampleName} is one)`,
    );
  });

  it('accepts a UTF-8 byte order mark, as some Windows editors write', async () => {
    const path = await file(`bom-${exampleName}`, `\uFEFF${await example(exampleName)}`);
    await expect(read(path)).resolves.toBeDefined();
  });

  it('accepts the $schema key that points an editor at the JSON Schema', async () => {
    expect(JSON.parse(await example(exampleName))).toHaveProperty('$schema');
    await expect(read(join(import.meta.dirname, '../../examples', exampleName))).resolves.toBeDefined();
  });

  it('points the example at the JSON Schema for this kind of file', async () => {
    const schema = (JSON.parse(await example(exampleName)) as { $schema: string }).$schema;
    const published = JSON.parse(await readFile(join(import.meta.dirname, '../../examples', schema), 'utf8'));
    expect(published).toMatchObject({
      title: what === 'fleet file' ? 'ami-rollout local account fleet' : 'ami-rollout configuration',
    });
  });

  it('gives the line and column of a JSON syntax error', async () => {
    const text = (await example(exampleName)).replace(/,\n(\s*)"/, '\n$1"');
    const path = await file(`syntax-${exampleName}`, text);
    await expect(read(path)).rejects.toThrow(
      new RegExp(`^${what} ${path} is not valid JSON: line 3, column 3: expected ',' or '}' after a field`),
    );
  });
});

describe('locateJsonError', () => {
  const at = (text: string) => {
    const found = locateJsonError(text);
    if (!found) return undefined;
    const before = text.slice(0, found.offset);
    return `${before.split('\n').length}:${found.offset - before.lastIndexOf('\n')} ${found.message}`;
  };

  it.each([
    ['{\n  "a": 1,\n}', "3:1 a comma before '}': remove it (JSON allows no trailing comma)"],
    ['{"a": [1, 2,]}', "1:13 a comma before ']': remove it (JSON allows no trailing comma)"],
    [
      '{\n  "a": }',
      '2:8 expected a value (an object, array, string, number, true, false or null), found "}"',
    ],
    ["{'a': 1}", 'expected a field name in double quotes, found "\'"'],
    ['{"a": 1 "b": 2}', "1:9 expected ',' or '}' after a field, found \"\\\"\""],
    ['{"a": 1', "1:8 expected ',' or '}' after a field, found the end of the file"],
    [
      '{"a": "x\ny"}',
      '1:9 a string holds a line break or control character: write it as \\n, or close the string',
    ],
    ['{"a": 1} // note', '1:10 JSON has no comments: remove it'],
    ['{"a": 1}}', '1:9 unexpected "}" after the end of the JSON value'],
    ['{"a": 01}', "1:8 expected ',' or '}' after a field, found \"1\""],
  ])('finds the error in %j', (text, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(at(text)).toMatch(new RegExp(`${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('finds none in valid JSON', () => {
    for (const text of ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]}', ' 0 ']) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(locateJsonError(text)).toBeUndefined();
    }
  });
});

describe('fleet file problems', () => {
  it('are worded as the configuration problems are: the field, the value and what it must be', async () => {
    const path = await file(
      'bad-fleet.json',
      JSON.stringify({
        colour: 'blue',
        images: [{ imageId: 'ami-0a1b2c3d4e5f60001', name: '', state: 'gone' }],
        launchTemplates: [{ name: 'web', imageId: 'ami-0a1b2c3d4e5f60001' }],
        autoScalingGroups: [
          { name: 'web', launchTemplate: 'web', minSize: -1, maxSize: 2, desiredCapacity: 1.5 },
        ],
        faults: [{ kind: 'meteorStrike' }],
      }),
    );
    const error: unknown = await readFleetFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetFileError);
    expect((error as FleetFileError).problems).toEqual([
      'images[0].name: "" must not be empty',
      'images[0].state: "gone" must be one of "pending", "available", "invalid", "deregistered", "failed", "error"',
      'autoScalingGroups[0].minSize: -1 must be 0 or more',
      'autoScalingGroups[0].desiredCapacity: 1.5 must be a whole number',
      'faults[0].kind: "meteorStrike" must be one of "unhealthyInstances", "appFailure", "launchFailure", ' +
        '"stallRefresh", "cancelRefresh", "failRollback", "throttle", "dynamodbThrottle", "capacityChange", "alarm"',
      '(top level): unknown field "colour"; remove it or check its spelling',
    ]);
  });
});
