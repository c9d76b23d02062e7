/** The `spansight` command line: dispatches to one module per command. */
import { runInventory } from './inventory.js';
import { runRead } from './read.js';
import { runRun } from './run.js';
import { runWatch } from './watch.js';

const USAGE = `usage: spansight <command> [options]

commands:
  read FILE [--json] [--max-flows N] [--no-progress]
      decode a pcap or pcapng capture and print totals
  inventory FILE [--json] [--catalog FILE]
      list the devices of a capture, fingerprinted and classified
  run [--config FILE] [--pcap FILE | --interface IF] [--broker URL]
      run the sensor and publish to MQTT; with nothing configured, replay
      the sample capture into an embedded broker
  watch --broker URL [--json]
      subscribe and print what sensors publish, warning on missed messages

run "spansight <command> --help" for a command's options.
`;

/** Run the CLI with `args` (no node or script path); resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'read':
      return runRead(rest);
    case 'inventory':
      return runInventory(rest);
    case 'run':
      return runRun(rest);
    case 'watch':
      return runWatch(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`spansight: unknown command "${command}"\n\n`);
      process.stderr.write(USAGE);
      return 2;
  }
}
