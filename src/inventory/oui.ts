/**
 * MAC vendor lookup from the IEEE MA-L, MA-M and MA-S registries, as packaged by
 * oui-data; `scripts/refresh-oui.sh` updates the package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Locally administered bit (IEEE 802 second-least-significant bit). */
const LOCAL_BIT = 0x02;
const GROUP_BIT = 0x01;

/**
 * Registry blocks by prefix length, MA-S (36 bits), MA-M (28) and MA-L
 * (24): sorted prefixes with the index of their organisation's name. Typed
 * arrays and one array of distinct names keep the 50k-entry registry to a
 * few megabytes the garbage collector need not walk.
 */
interface Registry {
  prefixes36: Float64Array;
  names36: Int32Array;
  prefixes28: Float64Array;
  names28: Int32Array;
  prefixes24: Float64Array;
  names24: Int32Array;
  names: string[];
}

let registry: Registry | undefined;

/**
 * The registered organisation for the MAC at `buf[off .. off + 6)`, the
 * longest registered prefix first; undefined when it is not registered, is
 * all zeros, or is locally administered (randomised) or a group address.
 */
export function lookupVendor(buf: Uint8Array, off: number): string | undefined {
  const first = buf[off];
  if (first & (LOCAL_BIT | GROUP_BIT)) return undefined;
  const prefix24 = (first << 16) | (buf[off + 1] << 8) | buf[off + 2];
  if (prefix24 === 0) return undefined;
  const found = loadRegistry();
  const prefix36 =
    prefix24 * 4096 + ((buf[off + 3] << 4) | (buf[off + 4] >> 4));
  const prefix28 = prefix24 * 16 + (buf[off + 3] >> 4);
  let name = findName(found.prefixes36, found.names36, prefix36);
  if (name < 0) name = findName(found.prefixes28, found.names28, prefix28);
  if (name < 0) name = findName(found.prefixes24, found.names24, prefix24);
  return name < 0 ? undefined : found.names[name];
}

/** True for a locally administered address, as randomised MACs are. */
export function isLocallyAdministered(buf: Uint8Array, off: number): boolean {
  return (buf[off] & LOCAL_BIT) !== 0;
}

/** True for a group (multicast or broadcast) address. */
export function isGroupAddress(buf: Uint8Array, off: number): boolean {
  return (buf[off] & GROUP_BIT) !== 0;
}

/** Load the registry (once) and return its entry count. */
export function loadVendorRegistry(): number {
  const found = loadRegistry();
  return (
    found.prefixes36.length + found.prefixes28.length + found.prefixes24.length
  );
}

/**
 * Load once, on first use. The package maps a hex prefix of 6, 7 or 9
 * digits to the organisation's name and postal address; only the name (the
 * first line) is kept. The JSON is read directly, not through `require`,
 * so that its parsed form is not cached for the life of the process.
 */
function loadRegistry(): Registry {
  if (registry !== undefined) return registry;
  const path = createRequire(import.meta.url).resolve('oui-data');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const byLength = new Map<number, Array<[number, number]>>([
    [9, []],
    [7, []],
    [6, []],
  ]);
  for (const [hex, entry] of Object.entries(raw)) {
    const name = entry.split('\n', 1)[0].trim();
    const block = byLength.get(hex.length);
    if (name === '' || block === undefined) continue;
    let index = nameIndex.get(name);
    if (index === undefined) {
      index = names.length;
      names.push(name);
      nameIndex.set(name, index);
    }
    block.push([parseInt(hex, 16), index]);
  }
  const [prefixes36, names36] = sortedBlock(byLength.get(9) ?? []);
  const [prefixes28, names28] = sortedBlock(byLength.get(7) ?? []);
  const [prefixes24, names24] = sortedBlock(byLength.get(6) ?? []);
  registry = {
    prefixes36,
    names36,
    prefixes28,
    names28,
    prefixes24,
    names24,
    names,
  };
  return registry;
}

function sortedBlock(
  entries: Array<[number, number]>,
): [Float64Array, Int32Array] {
  entries.sort((a, b) => a[0] - b[0]);
  const prefixes = new Float64Array(entries.length);
  const nameIds = new Int32Array(entries.length);
  entries.forEach(([prefix, name], i) => {
    prefixes[i] = prefix;
    nameIds[i] = name;
  });
  return [prefixes, nameIds];
}

/** Binary search: the name index of `prefix`, or -1. */
function findName(
  prefixes: Float64Array,
  nameIds: Int32Array,
  prefix: number,
): number {
  let low = 0;
  let high = prefixes.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = prefixes[middle];
    if (value === prefix) return nameIds[middle];
    if (value < prefix) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
