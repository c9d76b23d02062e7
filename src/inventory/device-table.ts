/**
 * The bounded device table: devices by MAC + VLAN (or by IP when behind a
 * router), found per packet through an integer hash index, never a string.
 */
import { IdList, NO_ENTRY } from '../flows/id-list.js';
import { formatIpv4, formatIpv6, formatMac } from '../fingerprint/text.js';
import {
  COUNTER_BYTES,
  COUNTER_LAST_SEEN_US,
  COUNTER_PACKETS,
  COUNTER_SERIAL,
  COUNTER_STRIDE,
  Device,
} from './device.js';
import { isLocallyAdministered, lookupVendor } from './oui.js';

/** Devices held before the least recently seen is evicted. */
export const DEVICE_TABLE_MAX_DEVICES = 16_384;

/** Key kinds, in the top bits of the first key word. */
const KIND_MAC = 0;
const KIND_IPV4 = 1;
const KIND_IPV6 = 2;

/**
 * Devices indexed by a two-word key: (kind, VLAN, MAC high 16 bits) and the
 * MAC's low 32 bits, or the IP address for hosts seen only behind a router.
 * Capacity is fixed; a full table evicts the least recently seen device
 * (a flow-table-style lazy recency list) and counts it.
 */
export class DeviceTable {
  readonly maxDevices: number;
  /** Devices evicted because the table was full. */
  evicted = 0;
  private readonly devices: Array<Device | undefined>;
  /** Per index, a `COUNTER_STRIDE` row: packets, bytes, last seen, serial. */
  private readonly counters: Float64Array;
  private readonly slotMask: number;
  private readonly index: Int32Array;
  private readonly keys: Int32Array;
  private readonly slotOf: Int32Array;
  private readonly listedUs: Float64Array;
  private readonly recent: IdList;
  private freeHead = NO_ENTRY;
  private readonly freeNext: Int32Array;
  private sizeNow = 0;
  private lastSerial = 0;

  constructor(maxDevices = DEVICE_TABLE_MAX_DEVICES) {
    this.maxDevices = maxDevices;
    const slots = nextPowerOfTwo(maxDevices * 2);
    this.slotMask = slots - 1;
    this.index = new Int32Array(slots).fill(NO_ENTRY);
    this.keys = new Int32Array(maxDevices * 2);
    this.slotOf = new Int32Array(maxDevices);
    this.listedUs = new Float64Array(maxDevices);
    this.devices = new Array<Device | undefined>(maxDevices).fill(undefined);
    this.counters = new Float64Array(maxDevices * COUNTER_STRIDE);
    this.recent = new IdList(maxDevices);
    this.freeNext = new Int32Array(maxDevices);
    for (let id = maxDevices - 1; id >= 0; id--) {
      this.freeNext[id] = this.freeHead;
      this.freeHead = id;
    }
  }

  get size(): number {
    return this.sizeNow;
  }

  /** The device of the MAC at `buf[off]` on `vlan`, created if new. */
  byMac(buf: Uint8Array, off: number, vlan: number, timeUs: number): Device {
    const word0 =
      (KIND_MAC << 28) | (vlan << 16) | (buf[off] << 8) | buf[off + 1];
    const word1 =
      (buf[off + 2] << 24) |
      (buf[off + 3] << 16) |
      (buf[off + 4] << 8) |
      buf[off + 5];
    const id = this.find(word0, word1);
    if (id !== NO_ENTRY) return this.touch(id, timeUs);
    const device = newMacDevice(buf, off, vlan, timeUs);
    return this.insert(word0, word1, timeUs, device);
  }

  /**
   * The host with the IP at `buf[off]` (4 or 16 bytes), seen behind a
   * router's MAC. IPv6 addresses are folded to 64 bits for the key.
   */
  byIp(
    buf: Uint8Array,
    off: number,
    addrBytes: number,
    vlan: number,
    timeUs: number,
  ): Device {
    let word0: number;
    let word1: number;
    if (addrBytes === 4) {
      word0 = (KIND_IPV4 << 28) | (vlan << 16);
      word1 = readWord(buf, off);
    } else {
      word0 =
        (KIND_IPV6 << 28) |
        (vlan << 16) |
        ((readWord(buf, off) ^ readWord(buf, off + 8)) & 0xffff);
      word1 = readWord(buf, off + 4) ^ readWord(buf, off + 12);
    }
    const id = this.find(word0, word1);
    if (id !== NO_ENTRY) return this.touch(id, timeUs);
    const device = newRoutedHost(buf, off, addrBytes, vlan, timeUs);
    return this.insert(word0, word1, timeUs, device);
  }

  /** The host entry of IPv4 `address` (a signed word), if one is held. */
  findIpv4(address: number): Device | undefined {
    const id = this.find(KIND_IPV4 << 28, address);
    return id === NO_ENTRY ? undefined : this.devices[id];
  }

  /** The device at table index `id`, if one is held there. */
  at(id: number): Device | undefined {
    return this.devices[id];
  }

  /**
   * Whether index `id` still holds the device of `serial`: a remembered
   * index is checked without reading the device itself.
   */
  holds(id: number, serial: number): boolean {
    return this.counters[id * COUNTER_STRIDE + COUNTER_SERIAL] === serial;
  }

  /** The serial of the device at index `id` (0: none held there). */
  serialAt(id: number): number {
    return this.counters[id * COUNTER_STRIDE + COUNTER_SERIAL];
  }

  /** One of the `RECENT_*` keys of the device at index `id` (0: none). */
  recentKey(id: number, column: number): number {
    return this.counters[id * COUNTER_STRIDE + column];
  }

  setRecentKey(id: number, column: number, key: number): void {
    this.counters[id * COUNTER_STRIDE + column] = key;
  }

  /** Account one frame to the device at index `id`. */
  count(id: number, wireBytes: number, timeUs: number): void {
    const at = id * COUNTER_STRIDE;
    const counters = this.counters;
    counters[at + COUNTER_PACKETS]++;
    counters[at + COUNTER_BYTES] += wireBytes;
    counters[at + COUNTER_LAST_SEEN_US] = timeUs;
  }

  /**
   * Account what one flow direction sent since it was last settled to the
   * device at index `id`; `lastUs` is that direction's last packet time.
   */
  countFlow(id: number, packets: number, bytes: number, lastUs: number) {
    const at = id * COUNTER_STRIDE;
    const counters = this.counters;
    counters[at + COUNTER_PACKETS] += packets;
    counters[at + COUNTER_BYTES] += bytes;
    if (lastUs > counters[at + COUNTER_LAST_SEEN_US]) {
      counters[at + COUNTER_LAST_SEEN_US] = lastUs;
    }
  }

  /**
   * Fold the device at index `fromId` into the one at `intoId` (the same
   * device known under two keys) and drop it: its packets, bytes and times
   * move over, and it is not counted as evicted.
   */
  merge(fromId: number, intoId: number): void {
    const from = this.devices[fromId] as Device;
    const into = this.devices[intoId] as Device;
    this.countFlow(intoId, from.packets, from.bytes, from.lastSeenUs);
    if (from.firstSeenUs < into.firstSeenUs) {
      into.firstSeenUs = from.firstSeenUs;
    }
    this.recent.remove(fromId);
    this.release(fromId);
  }

  /** Every device held, in no particular order. */
  all(): Device[] {
    return this.devices.filter((device): device is Device => !!device);
  }

  private find(word0: number, word1: number): number {
    let slot = hashWords(word0, word1) & this.slotMask;
    for (;;) {
      const id = this.index[slot];
      if (id === NO_ENTRY) return NO_ENTRY;
      if (this.keys[id * 2] === word0 && this.keys[id * 2 + 1] === word1) {
        return id;
      }
      slot = (slot + 1) & this.slotMask;
    }
  }

  private touch(id: number, timeUs: number): Device {
    this.counters[id * COUNTER_STRIDE + COUNTER_LAST_SEEN_US] = timeUs;
    return this.devices[id] as Device;
  }

  /**
   * Hold a new device under its key. Devices are made by the module's
   * functions, not by closures here: a closure over a lookup's arguments
   * would make every lookup, found or not, allocate their context.
   */
  private insert(
    word0: number,
    word1: number,
    timeUs: number,
    device: Device,
  ): Device {
    if (this.freeHead === NO_ENTRY) this.evictOne();
    const id = this.freeHead;
    this.freeHead = this.freeNext[id];

    let slot = hashWords(word0, word1) & this.slotMask;
    while (this.index[slot] !== NO_ENTRY) slot = (slot + 1) & this.slotMask;
    this.index[slot] = id;
    this.slotOf[id] = slot;
    this.keys[id * 2] = word0;
    this.keys[id * 2 + 1] = word1;
    this.listedUs[id] = timeUs;
    this.recent.pushTail(id);
    this.sizeNow++;

    // Serials start at 1 and wrap after 2^32 devices, long after any
    // index remembered for a flow has been checked.
    this.lastSerial = (this.lastSerial + 1) | 0 || 1;
    device.attach(this.counters, id, this.lastSerial);
    this.devices[id] = device;
    return device;
  }

  /**
   * Evict the least recently seen device: one at the head that was seen
   * since it was listed moves to the tail instead, a bounded number of times.
   */
  private evictOne(): void {
    let id = this.recent.head;
    for (let i = 0; i < 8; i++) {
      const lastSeenUs =
        this.counters[id * COUNTER_STRIDE + COUNTER_LAST_SEEN_US];
      if (lastSeenUs <= this.listedUs[id]) break;
      this.listedUs[id] = lastSeenUs;
      this.recent.remove(id);
      this.recent.pushTail(id);
      id = this.recent.head;
    }
    this.recent.remove(id);
    this.release(id);
    this.evicted++;
  }

  /** Free index `id`, already off the recency list, for a new device. */
  private release(id: number): void {
    this.removeFromIndex(id);
    (this.devices[id] as Device).detach();
    this.devices[id] = undefined;
    this.counters[id * COUNTER_STRIDE + COUNTER_SERIAL] = 0;
    this.freeNext[id] = this.freeHead;
    this.freeHead = id;
    this.sizeNow--;
  }

  /** Backward-shift deletion, as in the flow table's index. */
  private removeFromIndex(id: number): void {
    const mask = this.slotMask;
    let hole = this.slotOf[id];
    this.index[hole] = NO_ENTRY;
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      const moved = this.index[slot];
      if (moved === NO_ENTRY) return;
      const home =
        hashWords(this.keys[moved * 2], this.keys[moved * 2 + 1]) & mask;
      const isHomeBetween =
        hole <= slot
          ? home > hole && home <= slot
          : home > hole || home <= slot;
      if (isHomeBetween) continue;
      this.index[hole] = moved;
      this.slotOf[moved] = hole;
      this.index[slot] = NO_ENTRY;
      hole = slot;
    }
  }
}

function newMacDevice(
  buf: Uint8Array,
  off: number,
  vlan: number,
  timeUs: number,
): Device {
  const device = new Device(formatMac(buf, off), vlan, timeUs);
  device.vendor = lookupVendor(buf, off) ?? null;
  device.randomizedMac = isLocallyAdministered(buf, off);
  return device;
}

function newRoutedHost(
  buf: Uint8Array,
  off: number,
  addrBytes: number,
  vlan: number,
  timeUs: number,
): Device {
  const address = addrBytes === 4 ? formatIpv4(buf, off) : formatIpv6(buf, off);
  const device = new Device(null, vlan, timeUs, address);
  device.routed = true;
  device.ips.add(address);
  return device;
}

function readWord(buf: Uint8Array, off: number): number {
  return (
    (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]
  );
}

function hashWords(word0: number, word1: number): number {
  let h = Math.imul(word0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ word1 ^ (h >>> 15), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function nextPowerOfTwo(value: number): number {
  let power = 1;
  while (power < value) power *= 2;
  return power;
}
