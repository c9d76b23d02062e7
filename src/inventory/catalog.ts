/**
 * The device catalog: versioned JSON that maps evidence to a category, make
 * and model, its validation, and the classifier that applies it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Device categories, stable ids published to subscribers. */
export const CATEGORIES = [
  'infusion_pump',
  'patient_monitor',
  'imaging_modality',
  'pacs_or_clinical_workstation',
  'lab_analyser',
  'printer',
  'ip_camera',
  'voip_phone',
  'network_infrastructure',
  'building_automation',
  'general_purpose_computer',
  'mobile',
  'unknown',
] as const;

export type Category = (typeof CATEGORIES)[number];

/**
 * Evidence fields a rule can test. Each is a list of strings observed for
 * the device (see `DeviceFacts`); a rule matches when any value does.
 */
export const FACT_FIELDS = [
  'mac',
  'vendor',
  'hostname',
  'dhcp.vendorClass',
  'dhcp.fingerprint',
  'dhcpv6.vendorClass',
  'http.userAgent',
  'tls.sni',
  'tls.ja4',
  'tcp.osGuess',
  'sip.userAgent',
  'sip.role',
  'ssdp.server',
  'ssdp.type',
  'mdns.service',
  'mdns.model',
  'mdns.instance',
  'dns.query',
  'lldp.systemName',
  'lldp.systemDescription',
  'lldp.medManufacturer',
  'lldp.medModel',
  'lldp.capabilities',
  'mudUrl',
  'cdp.platform',
  'cdp.softwareVersion',
  'cdp.capabilities',
  'nbns.name',
  'wsd.type',
  'dicom.implementationClassUid',
  'dicom.implementationVersion',
  'dicom.ae',
  'dicom.role',
  'dicom.abstractSyntax',
  'hl7.sendingApplication',
  'hl7.sendingFacility',
  'hl7.messageType',
  'hint.vendor',
  'hint.product',
  'server.port',
  'role',
] as const;

export type FactField = (typeof FACT_FIELDS)[number];

/** What the classifier sees of a device: observed values per field. */
export type DeviceFacts = Partial<Record<FactField, readonly string[]>>;

/** One test on one field; exactly one of regex, equals, prefix is set. */
export interface CatalogRule {
  field: FactField;
  /**
   * Case-insensitive regular expression, searched in the value. A group
   * named `model` (`^Cisco-(?<model>CP-?\d{4})/`) names the device's model
   * from the value it matched, for an entry with no fixed model.
   */
  regex?: string;
  /** Case-insensitive exact value. */
  equals?: string;
  /** Case-insensitive prefix. */
  prefix?: string;
  /** How much a match alone says, from 0 to 1. */
  weight: number;
}

export interface CatalogEntry {
  id: string;
  category: Category;
  make?: string;
  model?: string;
  rules: CatalogRule[];
}

export interface Catalog {
  /** Version of the catalog's content, e.g. "2026.12.1". */
  version: string;
  entries: CatalogEntry[];
}

/** The outcome for one device. */
export interface Classification {
  category: Category;
  make: string | null;
  model: string | null;
  /** 0 to 1: the combined weight of the matching rules (noisy-or). */
  confidence: number;
  /** One line per matching rule: the field, the value seen, the weight. */
  evidence: string[];
  /** The catalog entry that won, null when none matched. */
  entryId: string | null;
}

/** Below this a match is too weak to name a category. */
export const MIN_CONFIDENCE = 0.25;

/** A catalog file or object that breaks the format; names the place. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  readonly code = 'E_CATALOG_INVALID';
}

/** The catalog shipped with spansight. */
export function loadDefaultCatalog(): CompiledCatalog {
  const path = fileURLToPath(new URL('./catalog.json', import.meta.url));
  return loadCatalogFile(path);
}

/** Read, validate and compile a catalog file. */
export function loadCatalogFile(path: string): CompiledCatalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CatalogError(`${path}: ${(error as Error).message}`);
  }
  return compileCatalog(parsed, path);
}

/**
 * Validate a parsed catalog and compile its rules. Every error names the
 * place, e.g. `catalog.json: entries[3].rules[1].field: unknown field`.
 */
export function compileCatalog(
  value: unknown,
  source = 'catalog',
): CompiledCatalog {
  const fail = (place: string, problem: string): never => {
    throw new CatalogError(`${source}: ${place}: ${problem}`);
  };
  if (!isObject(value)) fail('(top)', 'expected an object');
  const catalog = value as Record<string, unknown>;
  if (typeof catalog.version !== 'string' || catalog.version === '') {
    fail('version', 'expected a non-empty string');
  }
  if (!Array.isArray(catalog.entries)) fail('entries', 'expected an array');

  const ids = new Set<string>();
  const entries = (catalog.entries as unknown[]).map((raw, i) => {
    const place = `entries[${i}]`;
    if (!isObject(raw)) return fail(place, 'expected an object');
    const entry = raw as Record<string, unknown>;
    if (typeof entry.id !== 'string' || entry.id === '') {
      fail(`${place}.id`, 'expected a non-empty string');
    }
    if (ids.has(entry.id as string)) fail(`${place}.id`, 'duplicate id');
    ids.add(entry.id as string);
    if (!CATEGORIES.includes(entry.category as Category)) {
      fail(`${place}.category`, `expected one of ${CATEGORIES.join(', ')}`);
    }
    for (const key of ['make', 'model'] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== 'string') {
        fail(`${place}.${key}`, 'expected a string');
      }
    }
    if (!Array.isArray(entry.rules) || entry.rules.length === 0) {
      fail(`${place}.rules`, 'expected a non-empty array');
    }
    const rules = (entry.rules as unknown[]).map((rule, j) =>
      compileRule(rule, `${place}.rules[${j}]`, fail),
    );
    if (entry.model !== undefined && rules.some((rule) => rule.namesModel)) {
      fail(`${place}.model`, 'a fixed model and a rule capturing one');
    }
    return {
      id: entry.id as string,
      category: entry.category as Category,
      make: (entry.make as string | undefined) ?? null,
      model: (entry.model as string | undefined) ?? null,
      rules,
    };
  });
  return new CompiledCatalog(catalog.version as string, entries);
}

interface CompiledRule {
  field: FactField;
  test: (value: string) => boolean;
  /** The `model` group of a matching value; null for rules without one. */
  modelOf: (value: string) => string | null;
  namesModel: boolean;
  weight: number;
}

interface CompiledEntry {
  id: string;
  category: Category;
  make: string | null;
  model: string | null;
  rules: CompiledRule[];
}

function compileRule(
  value: unknown,
  place: string,
  fail: (place: string, problem: string) => never,
): CompiledRule {
  if (!isObject(value)) return fail(place, 'expected an object');
  const rule = value as Record<string, unknown>;
  if (!FACT_FIELDS.includes(rule.field as FactField)) {
    fail(`${place}.field`, `unknown field "${String(rule.field)}"`);
  }
  const weight = rule.weight;
  if (typeof weight !== 'number' || !(weight > 0 && weight <= 1)) {
    fail(`${place}.weight`, 'expected a number above 0, at most 1');
  }

  const kinds = (['regex', 'equals', 'prefix'] as const).filter(
    (kind) => rule[kind] !== undefined,
  );
  if (kinds.length !== 1) {
    fail(place, 'expected exactly one of regex, equals, prefix');
  }
  const kind = kinds[0];
  const text = rule[kind];
  if (typeof text !== 'string' || text === '') {
    fail(`${place}.${kind}`, 'expected a non-empty string');
  }
  let test: (value: string) => boolean;
  let modelOf = (_value: string): string | null => null;
  let namesModel = false;
  if (kind === 'regex') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(text as string, 'i');
    } catch (error) {
      return fail(`${place}.regex`, (error as Error).message);
    }
    test = (value) => pattern.test(value);
    namesModel = /\(\?<model>/.test(text as string);
    if (namesModel) {
      modelOf = (value) => pattern.exec(value)?.groups?.model || null;
    }
  } else {
    const lower = (text as string).toLowerCase();
    test =
      kind === 'equals'
        ? (value) => value.toLowerCase() === lower
        : (value) => value.toLowerCase().startsWith(lower);
  }
  return {
    field: rule.field as FactField,
    test,
    modelOf,
    namesModel,
    weight: weight as number,
  };
}

/** A validated catalog, ready to classify devices. */
export class CompiledCatalog {
  constructor(
    readonly version: string,
    private readonly entries: CompiledEntry[],
  ) {}

  get entryCount(): number {
    return this.entries.length;
  }

  /**
   * Score every entry against the facts: a rule's weight counts when any
   * value of its field matches, and weights combine as independent
   * evidence (1 - product of (1 - weight)). The best entry wins when it
   * reaches MIN_CONFIDENCE; a tie goes to the entry naming a model, fixed
   * or captured by the first of its matching rules that captures one.
   */
  classify(facts: DeviceFacts): Classification {
    let best: Classification | null = null;
    for (const entry of this.entries) {
      let miss = 1;
      let model = entry.model;
      const evidence: string[] = [];
      for (const rule of entry.rules) {
        const values = facts[rule.field];
        if (values === undefined) continue;
        const hit = values.find(rule.test);
        if (hit === undefined) continue;
        miss *= 1 - rule.weight;
        model ??= rule.modelOf(hit);
        evidence.push(`${rule.field}=${JSON.stringify(hit)} (${rule.weight})`);
      }
      const confidence = Math.round((1 - miss) * 100) / 100;
      if (confidence < MIN_CONFIDENCE) continue;
      const isBetter =
        best === null ||
        confidence > best.confidence ||
        (confidence === best.confidence &&
          best.model === null &&
          model !== null);
      if (isBetter) {
        best = {
          category: entry.category,
          make: entry.make,
          model,
          confidence,
          evidence,
          entryId: entry.id,
        };
      }
    }
    return (
      best ?? {
        category: 'unknown',
        make: null,
        model: null,
        confidence: 0,
        evidence: [],
        entryId: null,
      }
    );
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
