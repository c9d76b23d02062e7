/**
 * Which devices changed since they were last published, and which new
 * findings deserve an alert. Traffic counters alone are not a change: they
 * travel in flow summaries.
 */
import { createHash } from 'node:crypto';

import type { DeviceReport } from '../inventory/device.js';
import type { AlertRecord } from './records.js';

/** Devices whose published state is remembered; the least recent go first. */
export const DEVICE_CHANGES_MAX_TRACKED = 16_384;

/** Severity of each finding kind; unknown kinds are warnings. */
const FINDING_SEVERITY: Readonly<Record<string, string>> = {
  address_conflict: 'critical',
  dicom_user_identity_in_clear: 'warning',
};

const FINDING_SUMMARY: Readonly<Record<string, string>> = {
  address_conflict: 'another device claims an address this device uses',
  dicom_user_identity_in_clear:
    'DICOM association carries a user identity without TLS',
};

export interface DeviceChanges {
  changed: DeviceReport[];
  /** Ids published before that the inventory no longer holds. */
  removedIds: string[];
  alerts: AlertRecord[];
}

/** Tracks the last published form of each device, bounded. */
export class DeviceChangeTracker {
  /** Devices forgotten because more than the cap were tracked. */
  evicted = 0;
  private readonly digests = new Map<string, string>();
  private readonly findings = new Map<string, Set<string>>();

  constructor(readonly maxTracked = DEVICE_CHANGES_MAX_TRACKED) {}

  /**
   * The devices of `reports` (every device the inventory holds) whose
   * identifying facts differ from their last published form, those
   * published before and no longer held (evicted, or merged into another),
   * and an alert per finding not raised before. `timeUs` is the packet
   * time the alerts carry.
   */
  update(reports: readonly DeviceReport[], timeUs: number): DeviceChanges {
    const changed: DeviceReport[] = [];
    const alerts: AlertRecord[] = [];
    const held = new Set<string>();
    for (const report of reports) {
      held.add(report.id);
      const digest = digestOf(report);
      if (this.digests.get(report.id) !== digest) {
        changed.push(report);
        this.remember(report.id, digest);
      }
      this.collectAlerts(report, timeUs, alerts);
    }

    const removedIds: string[] = [];
    for (const id of this.digests.keys()) {
      if (held.has(id)) continue;
      removedIds.push(id);
      this.digests.delete(id);
      this.findings.delete(id);
    }
    return { changed, removedIds, alerts };
  }

  /** Take `reports` as published in full (a birth or rebirth snapshot). */
  markPublished(reports: readonly DeviceReport[], timeUs: number): void {
    this.update(reports, timeUs);
  }

  private remember(id: string, digest: string): void {
    // Re-inserting moves the id to the end: Map order is recency order.
    this.digests.delete(id);
    this.digests.set(id, digest);
    while (this.digests.size > this.maxTracked) {
      const oldest = this.digests.keys().next().value as string;
      this.digests.delete(oldest);
      this.findings.delete(oldest);
      this.evicted++;
    }
  }

  private collectAlerts(
    report: DeviceReport,
    timeUs: number,
    alerts: AlertRecord[],
  ): void {
    if (report.findings.length === 0) return;
    let raised = this.findings.get(report.id);
    if (raised === undefined) {
      raised = new Set();
      this.findings.set(report.id, raised);
    }
    for (const finding of report.findings) {
      if (raised.has(finding)) continue;
      raised.add(finding);
      // A finding is `kind:detail`; the detail is an address or a type
      // name, never content taken from a payload.
      const separator = finding.indexOf(':');
      const kind = separator < 0 ? finding : finding.slice(0, separator);
      const detail = separator < 0 ? '' : finding.slice(separator + 1);
      const summary = FINDING_SUMMARY[kind] ?? kind.replaceAll('_', ' ');
      alerts.push({
        kind,
        severity: FINDING_SEVERITY[kind] ?? 'warning',
        deviceId: report.id,
        timeUs,
        summary: detail === '' ? summary : `${summary} (${detail})`,
      });
    }
  }
}

/** A digest of what identifies a device, leaving out traffic counters. */
function digestOf(report: DeviceReport): string {
  const facts: Partial<DeviceReport> = { ...report };
  delete facts.packets;
  delete facts.bytes;
  delete facts.lastSeen;
  delete facts.evictedValues;
  return createHash('sha1').update(JSON.stringify(facts)).digest('base64');
}
