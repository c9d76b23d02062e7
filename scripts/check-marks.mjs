// Rejects bare TODO/FIXME/XXX/HACK marks: a known shortcoming is written as a
// one-line `Limitation:` comment and listed in the README instead.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = ['src', 'scripts', 'test', 'bin'];
const SKIP = new Set(['fixtures', 'gen', 'node_modules']);
const MARK = /\b(TODO|FIXME|XXX|HACK)\b/;

const offenders = [];
for (const root of ROOTS) walk(root);

if (offenders.length > 0) {
  console.error('bare marks found (write a Limitation: line instead):');
  for (const line of offenders) console.error(`  ${line}`);
  process.exit(1);
}

function walk(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP.has(name)) walk(path);
    } else if (/\.(ts|mjs|js|sh)$/.test(name) && name !== 'check-marks.mjs') {
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((text, index) => {
          if (MARK.test(text)) offenders.push(`${path}:${index + 1}: ${text}`);
        });
    }
  }
}
