// Copies the data files the compiled code loads next to itself (tsc copies
// only what it compiles): the device catalog.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const ASSETS = ['src/inventory/catalog.json'];

for (const source of ASSETS) {
  if (!existsSync(source)) {
    console.error(`copy-assets: ${source} is missing`);
    process.exit(1);
  }
  mkdirSync(`dist/${source.slice(0, source.lastIndexOf('/'))}`, {
    recursive: true,
  });
  copyFileSync(source, `dist/${source}`);
}
