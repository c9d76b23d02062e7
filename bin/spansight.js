#!/usr/bin/env node
// Entry of the `spansight` command: runs the compiled CLI from dist/.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error) => {
    process.stderr.write(`spansight: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
