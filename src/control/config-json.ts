/**
 * A strict JSON parser that also accepts `//` line comments, reports syntax
 * errors by line and column, and rejects duplicate keys.
 */

/** A syntax error at a 1-based line and column of the text. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';

  constructor(
    readonly problem: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line} column ${column}: ${problem}`);
  }
}

/** Deepest nesting accepted; config files are 2-3 levels deep. */
const MAX_DEPTH = 32;

/**
 * Parse JSON text in which `//` starts a comment running to the end of the
 * line, outside strings only (`"mqtts://host"` stays intact). A leading
 * UTF-8 byte order mark is skipped, since Windows editors add one. Block
 * comments, trailing commas and single quotes are syntax errors, so a file
 * that parses here is JSON once its comment lines are removed. Objects get
 * a null prototype, so a `__proto__` key is plain data.
 */
export function parseJsonWithComments(text: string): unknown {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.parseValue(0);
  parser.skipSpace();
  if (parser.pos < text.length) parser.fail('unexpected text after the value');
  return value;
}

class Parser {
  pos = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(depth);
    if (c === '[') return this.parseArray(depth);
    if (c === '"') return this.parseString();
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    if (c === undefined) this.fail('unexpected end of file, expected a value');
    if (c === "'") this.fail('strings need double quotes');
    if (c === '}' || c === ']') {
      this.fail(`unexpected "${c}" (a trailing comma before it?)`);
    }
    this.fail(`unexpected ${describeChar(c)}, expected a value`);
  }

  private parseObject(depth: number): Record<string, unknown> {
    const out = Object.create(null) as Record<string, unknown>;
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '}') {
          this.fail('unexpected "}" after a comma (trailing comma?)');
        }
        this.fail('expected a key in double quotes');
      }
      const keyLine = this.lineColumn(this.pos);
      const key = this.parseString();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw new JsonSyntaxError(
          `duplicate key "${key}"`,
          keyLine.line,
          keyLine.column,
        );
      }
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ":" after "${key}"`);
      this.pos++;
      this.skipSpace();
      out[key] = this.parseValue(depth + 1);
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        return out;
      }
      if (c !== ',') this.fail('expected "," or "}" after a value');
      this.pos++;
      this.skipSpace();
    }
  }

  private parseArray(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c !== ',') this.fail('expected "," or "]" after a value');
      this.pos++;
      this.skipSpace();
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') {
        this.pos = start;
        this.fail('string is not closed on its line');
      }
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c < ' ') this.fail('control character inside a string');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.text[this.pos + 1];
      const simple = ESCAPES.get(e);
      if (simple !== undefined) {
        out += simple;
        this.pos += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.hex4())) {
        out += String.fromCharCode(parseInt(this.hex4(), 16));
        this.pos += 6;
      } else {
        this.fail('invalid escape in a string (write \\\\ for a backslash)');
      }
    }
  }

  private hex4(): string {
    return this.text.slice(this.pos + 2, this.pos + 6);
  }

  private parseNumber(): number {
    const match = NUMBER.exec(this.text.slice(this.pos, this.pos + 64));
    if (match === null) this.fail('invalid number');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  /** Skip white space and `//` comments. */
  skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        this.pos++;
      } else if (c === '/' && text[this.pos + 1] === '/') {
        const end = text.indexOf('\n', this.pos);
        this.pos = end === -1 ? text.length : end;
      } else if (c === '/' && text[this.pos + 1] === '*') {
        this.fail('block comments are not supported; use // comments');
      } else {
        return;
      }
    }
  }

  fail(problem: string): never {
    const { line, column } = this.lineColumn(this.pos);
    throw new JsonSyntaxError(problem, line, column);
  }

  private lineColumn(pos: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < pos; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: pos - lineStart + 1 };
  }
}

const LITERALS: ReadonlyArray<[string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

const ESCAPES = new Map<string, string>([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

// JSON's number grammar (RFC 8259 section 6), anchored at the current spot.
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;

function describeChar(c: string): string {
  return /[ -~]/.test(c)
    ? `"${c}"`
    : `character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
