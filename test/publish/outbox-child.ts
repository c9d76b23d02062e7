/**
 * Child process for the outbox SIGKILL test: appends numbered records until
 * killed, printing `id seq` after each append has returned.
 */

import { pathToFileURL } from 'node:url';
import { Outbox } from '../../src/publish/outbox.js';

/** Deterministic payload of record `seq`, 1 to `maxBytes` bytes long. */
export function childPayload(
  tag: string,
  seq: number,
  maxBytes: number,
): Uint8Array {
  const lengthBytes = 1 + ((seq * 7919 + tag.length) % maxBytes);
  const out = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) out[i] = (seq * 31 + i) & 0xff;
  return out;
}

async function main(args: string[]): Promise<void> {
  const [dir, tag, maxPayloadBytesText] = args;
  const maxPayloadBytes = Number(maxPayloadBytesText);
  const outbox = await Outbox.open(dir, {
    maxBytes: 1 << 30,
    segmentBytes: 1 << 20,
    fsync: 'always',
  });
  process.stdout.write('ready\n');

  for (let seq = 0; ; seq++) {
    const id = await outbox.append({
      topic: `${tag}/${seq}`,
      payload: childPayload(tag, seq, maxPayloadBytes),
      retain: seq % 2 === 0,
    });
    // Pipes are written synchronously on Linux: a printed id is one whose
    // append returned before the kill.
    process.stdout.write(`${id} ${seq}\n`);
  }
}

// The test imports `childPayload`; only a direct run appends.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
