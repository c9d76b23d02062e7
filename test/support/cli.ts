/** The built command line, run as `npx spansight` would run it. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SAMPLE = join(
  REPO,
  'test/fixtures/generated/hospital-sample.pcap',
);

/** Run `spansight ARGS...` to its end; its exit code and output. */
export function spansight(...args: string[]) {
  const result = spawnSync('node', [join(REPO, 'bin/spansight.js'), ...args], {
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
