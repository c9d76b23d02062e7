/**
 * MAC vendor lookup from the IEEE MA-L, MA-M and MA-S registries, as packaged by
 * oui-data; `scripts/refresh-oui.sh` updates the package.
 */
import { createRequire } from 'node:module';

/** Locally administered bit (IEEE 802 second-least-significant bit). */
const LOCAL_BIT = 0x02;
const GROUP_BIT = 0x01;

/** Registry blocks by prefix length: MA-S (36 bits), MA-M (28), MA-L (24). */
interface Registry {
  byPrefix36: Map<number, string>;
  byPrefix28: Map<number, string>;
  byPrefix24: Map<number, string>;
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
  const { byPrefix36, byPrefix28, byPrefix24 } = loadRegistry();
  const prefix36 =
    prefix24 * 4096 + ((buf[off + 3] << 4) | (buf[off + 4] >> 4));
  const prefix28 = prefix24 * 16 + (buf[off + 3] >> 4);
  return (
    byPrefix36.get(prefix36) ??
    byPrefix28.get(prefix28) ??
    byPrefix24.get(prefix24)
  );
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
  const { byPrefix36, byPrefix28, byPrefix24 } = loadRegistry();
  return byPrefix36.size + byPrefix28.size + byPrefix24.size;
}

/**
 * Load once, on first use. The package maps a hex prefix of 6, 7 or 9
 * digits to the organisation's name and postal address; only the name (the
 * first line) is kept.
 */
function loadRegistry(): Registry {
  if (registry !== undefined) return registry;
  const require = createRequire(import.meta.url);
  const raw = require('oui-data') as Record<string, string>;
  const loaded: Registry = {
    byPrefix36: new Map(),
    byPrefix28: new Map(),
    byPrefix24: new Map(),
  };
  for (const [hex, entry] of Object.entries(raw)) {
    const name = entry.split('\n', 1)[0].trim();
    if (name === '') continue;
    const prefix = parseInt(hex, 16);
    if (hex.length === 9) loaded.byPrefix36.set(prefix, name);
    else if (hex.length === 7) loaded.byPrefix28.set(prefix, name);
    else if (hex.length === 6) loaded.byPrefix24.set(prefix, name);
  }
  registry = loaded;
  return registry;
}
