import { readFile } from 'node:fs/promises';

/**
 * Reading the JSON files a person writes (the rollout configuration, the fleet file), with every way that goes
 * wrong said in a sentence that names the fix: a wrong path, a directory, an empty file, a syntax error with its
 * line and column. A UTF-8 byte order mark, which some Windows editors write, is accepted (RFC 8259 section 8.1
 * lets a parser ignore it).
 */
export type JsonFileRead =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly kind: 'unreadable' | 'empty' | 'syntax';
      /** What is wrong, to follow the file's name: "does not exist: check the path". */
      readonly problem: string;
    };

export async function readJsonFile(path: string): Promise<JsonFileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, kind: 'unreadable', problem: unreadable(error as NodeJS.ErrnoException) };
  }
  return parseJsonText(text);
}

/** The JSON value of a file's text, or the problem with it. */
export function parseJsonText(text: string): JsonFileRead {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '')
    return { ok: false, kind: 'empty', problem: 'is empty: it must hold one JSON object' };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (error) {
    const found = locateJsonError(body);
    if (!found)
      return {
        ok: false,
        kind: 'syntax',
        problem: `is not valid JSON: ${(error as Error).message.split('\n')[0]}`,
      };
    const { line, column } = lineAndColumn(body, found.offset);
    return {
      ok: false,
      kind: 'syntax',
      problem: `is not valid JSON: line ${line}, column ${column}: ${found.message}`,
    };
  }
}

function unreadable(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'does not exist: check the path';
    case 'EISDIR':
      return 'is a directory: give the path of the JSON file itself';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied): check its permissions';
    default:
      return `cannot be read (${error.code ?? error.message})`;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

class JsonSyntaxError {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/**
 * Where JSON.parse gave up, and why, in words a person fixes a file with. (V8's messages give no position in
 * Node 20, and only a character offset in later versions.) Undefined when this reading finds no error.
 */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const found = () => (i >= text.length ? 'the end of the file' : JSON.stringify(text[i]));
  const fail = (message: string): never => {
    throw new JsonSyntaxError(i, message);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
    if (text[i] === '/') fail('JSON has no comments: remove it');
  };
  const string = () => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('the string is not closed: add the closing "');
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const escape = text[i + 1];
        if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i += 2;
        else fail('a backslash in a string starts an escape such as \\" or \\\\: double it');
        continue;
      }
      if (c! < ' ')
        fail('a string holds a line break or control character: write it as \\n, or close the string');
      i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === "'") fail("strings take double quotes, not '");
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if ((c === '-' || (c !== undefined && c >= '0' && c <= '9')) && number.test(text)) {
      i = number.lastIndex;
      return;
    }
    fail(`expected a value (an object, array, string, number, true, false or null), found ${found()}`);
  };
  const object = () => {
    i++;
    space();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (text[i] === '}') fail("a comma before '}': remove it (JSON allows no trailing comma)");
      if (text[i] !== '"') fail(`expected a field name in double quotes, found ${found()}`);
      string();
      space();
      if (text[i] !== ':') fail(`expected ':' after the field name, found ${found()}`);
      i++;
      value();
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(`expected ',' or '}' after a field, found ${found()}`);
    }
  };
  const array = () => {
    i++;
    space();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (text[i] === ']') fail("a comma before ']': remove it (JSON allows no trailing comma)");
      value();
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(`expected ',' or ']' after a list item, found ${found()}`);
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, message: error.message };
    throw error;
  }
  return undefined;
}
