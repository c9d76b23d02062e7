/**
 * Our own table of TCP stack traits by operating system, written from
 * public documentation of each stack's defaults, and the OS guess from it.
 */
import { TcpQuirk, type TcpSignature } from './tcp-signature.js';

/** Broad kind of system a rule points at. */
export type OsFamily =
  | 'linux'
  | 'android'
  | 'windows'
  | 'apple'
  | 'freebsd'
  | 'openbsd'
  | 'embedded'
  | 'network';

/** Which handshake segment a rule describes. */
export type SegmentKind = 'syn' | 'synack' | 'both';

/** A window rule: fixed sizes, or multiples of the segment's own MSS. */
export interface WindowRule {
  bytes?: readonly number[];
  mssFactors?: readonly number[];
  /** Any multiple of the MSS up to this factor. */
  maxMssFactor?: number;
}

/** One row of the table. All given conditions must hold. */
export interface OsSignatureRule {
  /** Stable id, reported as evidence. */
  id: string;
  label: string;
  family: OsFamily;
  appliesTo: SegmentKind;
  /** Guessed initial TTL (32, 64, 128 or 255). */
  initialTtl: number;
  /** Option layout exactly as in `TcpSignature.optionLayout`. */
  layouts?: readonly string[];
  window?: WindowRule;
  /** Allowed window scale shifts; -1 stands for no window scale option. */
  windowScales?: readonly number[];
  /** `TcpQuirk` bits that must be present, and that must be absent. */
  withQuirks?: number;
  withoutQuirks?: number;
  /** 0..1: how sure a match makes us, given how many stacks share it. */
  confidence: number;
  /** Why this row says what it says (public facts only). */
  basis: string;
}

/** The result of `guessOs`. */
export interface OsGuess {
  label: string;
  family: OsFamily;
  /** 0..1. */
  confidence: number;
  /** `OsSignatureRule.id` of the row that matched. */
  ruleId: string;
}

const LINUX_LAYOUT = 'mss,sok,ts,nop,ws';
const WINDOWS_LAYOUT = 'mss,nop,ws,nop,nop,sok';
const APPLE_LAYOUT = 'mss,nop,ws,nop,nop,ts,sok,eol+1';

/**
 * The table, most specific rows first. Confidence reflects how specific a
 * trait is: a layout and window both default to one stack score high, a
 * TTL alone scores low.
 */
export const OS_SIGNATURES: readonly OsSignatureRule[] = [
  {
    id: 'linux-3plus',
    label: 'Linux 3.x or newer',
    family: 'linux',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: [LINUX_LAYOUT],
    window: { mssFactors: [10, 20, 44, 45], bytes: [29200, 64240, 65160] },
    confidence: 0.8,
    basis:
      'ip_default_ttl 64; SYN options MSS, SACK-permitted, timestamps, NOP, ' +
      'window scale; initial receive window 10 MSS (3.x), 29200, or ' +
      '64240 (4.19+)',
  },
  {
    id: 'linux-2.6',
    label: 'Linux 2.6',
    family: 'linux',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: [LINUX_LAYOUT],
    window: { mssFactors: [4], bytes: [5840] },
    confidence: 0.7,
    basis: 'Linux layout with the 2.6 initial window of 4 MSS (5840)',
  },
  {
    id: 'android',
    label: 'Android',
    family: 'android',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: [LINUX_LAYOUT],
    window: { bytes: [65535] },
    windowScales: [8, 9, 10],
    confidence: 0.45,
    basis:
      'Linux kernel layout; Android raises the default receive buffers so ' +
      'the SYN advertises 65535 with a larger shift',
  },
  {
    id: 'linux-any-window',
    label: 'Linux',
    family: 'linux',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: [LINUX_LAYOUT],
    confidence: 0.6,
    basis:
      'The Linux option order alone; the window follows the route MTU and ' +
      'buffer tuning (loopback: MSS 65495)',
  },
  {
    id: 'linux-no-timestamps',
    label: 'Linux (timestamps off)',
    family: 'linux',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: ['mss,nop,nop,sok,nop,ws'],
    confidence: 0.5,
    basis: 'Linux order with net.ipv4.tcp_timestamps 0: NOPs pad the options',
  },
  {
    id: 'linux-ttl-255',
    label: 'Linux-based device (TTL 255)',
    family: 'embedded',
    appliesTo: 'syn',
    initialTtl: 255,
    layouts: [LINUX_LAYOUT],
    confidence: 0.4,
    basis: 'Linux option order with ip_default_ttl raised, as appliances do',
  },
  {
    id: 'linux-synack',
    label: 'Linux',
    family: 'linux',
    appliesTo: 'synack',
    initialTtl: 64,
    layouts: [LINUX_LAYOUT],
    confidence: 0.55,
    basis: 'Linux answers a full SYN with the same option order it sends',
  },
  {
    id: 'windows-10',
    label: 'Windows 10/11 or Server 2016+',
    family: 'windows',
    appliesTo: 'syn',
    initialTtl: 128,
    layouts: [WINDOWS_LAYOUT],
    window: { bytes: [64240, 65535] },
    windowScales: [8],
    confidence: 0.8,
    basis:
      'DefaultTTL 128; SYN options MSS, NOP, window scale, NOP, NOP, ' +
      'SACK-permitted without timestamps; 64240 window with shift 8',
  },
  {
    id: 'windows-7',
    label: 'Windows Vista/7/8',
    family: 'windows',
    appliesTo: 'syn',
    initialTtl: 128,
    layouts: [WINDOWS_LAYOUT],
    window: { bytes: [8192] },
    windowScales: [2, 8],
    confidence: 0.75,
    basis: 'Windows layout with the 8192-byte window of NT 6.x',
  },
  {
    id: 'windows-xp',
    label: 'Windows XP/2003',
    family: 'windows',
    appliesTo: 'syn',
    initialTtl: 128,
    layouts: ['mss,nop,nop,sok'],
    windowScales: [-1],
    confidence: 0.6,
    basis: 'TTL 128, no window scaling by default before Vista, SACK on',
  },
  {
    id: 'windows-any-window',
    label: 'Windows',
    family: 'windows',
    appliesTo: 'syn',
    initialTtl: 128,
    layouts: [WINDOWS_LAYOUT],
    confidence: 0.6,
    basis: 'The Windows option order with TTL 128, whatever the window',
  },
  {
    id: 'windows-timestamps',
    label: 'Windows (timestamps enabled)',
    family: 'windows',
    appliesTo: 'syn',
    initialTtl: 128,
    layouts: ['mss,nop,ws,nop,nop,ts,nop,nop,sok'],
    confidence: 0.6,
    basis: 'Windows layout with Tcp1323Opts timestamps switched on',
  },
  {
    id: 'windows-synack',
    label: 'Windows',
    family: 'windows',
    appliesTo: 'synack',
    initialTtl: 128,
    layouts: ['mss,nop,ws,sok,ts', 'mss,nop,ws,nop,nop,sok', 'mss,nop,nop,sok'],
    confidence: 0.5,
    basis: 'TTL 128 with the Windows option order on the answer',
  },
  {
    id: 'apple',
    label: 'macOS or iOS',
    family: 'apple',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: [APPLE_LAYOUT],
    window: { bytes: [65535] },
    confidence: 0.8,
    basis:
      'XNU sends MSS, NOP, window scale, NOP, NOP, timestamps, ' +
      'SACK-permitted and an end marker, window 65535',
  },
  {
    id: 'freebsd',
    label: 'FreeBSD',
    family: 'freebsd',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: ['mss,nop,ws,sok,ts'],
    window: { bytes: [65535] },
    confidence: 0.7,
    basis:
      'FreeBSD 9+ sends MSS, NOP, window scale, SACK-permitted, timestamps',
  },
  {
    id: 'openbsd',
    label: 'OpenBSD',
    family: 'openbsd',
    appliesTo: 'syn',
    initialTtl: 64,
    layouts: ['mss,nop,nop,sok,nop,ws,nop,nop,ts'],
    window: { bytes: [16384] },
    confidence: 0.7,
    basis: 'OpenBSD pads every option to 4 bytes with NOPs; window 16384',
  },
  {
    id: 'cisco-ios',
    label: 'Cisco IOS',
    family: 'network',
    appliesTo: 'both',
    initialTtl: 255,
    layouts: ['mss'],
    window: { bytes: [4128] },
    confidence: 0.7,
    basis: 'IOS TTL 255, MSS-only options and its documented 4128 window',
  },
  {
    id: 'lwip',
    label: 'lwIP (embedded)',
    family: 'embedded',
    appliesTo: 'both',
    initialTtl: 255,
    layouts: ['mss'],
    window: { maxMssFactor: 8 },
    withoutQuirks: TcpQuirk.DontFragment,
    confidence: 0.5,
    basis:
      'lwIP defaults: TCP_TTL 255, only the MSS option unless window ' +
      'scaling or timestamps are compiled in, TCP_WND a few TCP_MSS ' +
      '(default 536), no DF',
  },
  {
    id: 'threadx-netx',
    label: 'Azure RTOS ThreadX NetX (embedded)',
    family: 'embedded',
    appliesTo: 'both',
    initialTtl: 128,
    layouts: ['mss'],
    withoutQuirks: TcpQuirk.DontFragment,
    confidence: 0.4,
    basis:
      'NetX defaults: NX_IP_TIME_TO_LIVE 0x80, only the MSS option unless ' +
      'NX_ENABLE_TCP_WINDOW_SCALING, no DF; desktop stacks with TTL 128 ' +
      'always add SACK-permitted',
  },
  {
    id: 'vxworks-bsd',
    label: 'VxWorks (BSD-derived network stack)',
    family: 'embedded',
    appliesTo: 'both',
    initialTtl: 64,
    layouts: ['mss'],
    window: { bytes: [8192, 16384] },
    confidence: 0.3,
    basis:
      'VxWorks 5.x uses a 4.4BSD stack: TTL 64, MSS as the only option, ' +
      'socket buffers of 8 or 16 KiB; other BSD-derived embedded stacks ' +
      'look the same',
  },
  {
    id: 'embedded-mss-only',
    label: 'embedded TCP/IP stack',
    family: 'embedded',
    appliesTo: 'both',
    initialTtl: 64,
    layouts: ['mss', ''],
    confidence: 0.25,
    basis: 'MSS as the only option (or none): small stacks skip the others',
  },
  {
    id: 'ttl-128',
    label: 'Windows-like stack (TTL 128)',
    family: 'windows',
    appliesTo: 'both',
    initialTtl: 128,
    confidence: 0.2,
    basis: 'Initial TTL 128 is the Windows default',
  },
  {
    id: 'ttl-64',
    label: 'Unix-like stack (TTL 64)',
    family: 'linux',
    appliesTo: 'both',
    initialTtl: 64,
    confidence: 0.1,
    basis: 'Initial TTL 64 is the Linux, BSD and macOS default',
  },
  {
    id: 'ttl-255',
    label: 'network device or embedded stack (TTL 255)',
    family: 'network',
    appliesTo: 'both',
    initialTtl: 255,
    confidence: 0.15,
    basis: 'Initial TTL 255 is common on routers, switches and small stacks',
  },
];

// Limitation: no row for Nucleus NET or VxWorks IPnet: their SYN defaults
// are not publicly documented, so those stacks get only a generic label.

/**
 * Best OS guess for a signature: the highest-confidence row whose every
 * condition holds, or null when none does.
 */
export function guessOs(sig: TcpSignature): OsGuess | null {
  let best: OsSignatureRule | null = null;
  for (const rule of OS_SIGNATURES) {
    if (!matches(rule, sig)) continue;
    if (best === null || rule.confidence > best.confidence) best = rule;
  }
  if (best === null) return null;
  return {
    label: best.label,
    family: best.family,
    confidence: best.confidence,
    ruleId: best.id,
  };
}

function matches(rule: OsSignatureRule, sig: TcpSignature): boolean {
  if (rule.appliesTo === 'syn' && sig.isSynAck) return false;
  if (rule.appliesTo === 'synack' && !sig.isSynAck) return false;
  if (rule.initialTtl !== sig.initialTtl) return false;
  if (rule.layouts !== undefined && !rule.layouts.includes(sig.optionLayout)) {
    return false;
  }
  if (rule.window !== undefined && !windowMatches(rule.window, sig)) {
    return false;
  }
  if (
    rule.windowScales !== undefined &&
    !rule.windowScales.includes(sig.windowScale)
  ) {
    return false;
  }
  const withQuirks = rule.withQuirks ?? 0;
  if ((sig.quirks & withQuirks) !== withQuirks) return false;
  return (sig.quirks & (rule.withoutQuirks ?? 0)) === 0;
}

function windowMatches(rule: WindowRule, sig: TcpSignature): boolean {
  if (rule.bytes?.includes(sig.windowBytes)) return true;
  const mssBytes = sig.mssBytes;
  if (mssBytes <= 0 || sig.windowBytes % mssBytes !== 0) return false;
  const factor = sig.windowBytes / mssBytes;
  if (rule.mssFactors?.includes(factor)) return true;
  return (
    rule.maxMssFactor !== undefined &&
    factor >= 1 &&
    factor <= rule.maxMssFactor
  );
}
