/**
 * The validator over rendered YAML (`npm run validate`). It imports no chart: it judges the
 * YAML Argo CD will apply. Layers, each in its own module:
 *   1. schema (in-repo): unknown fields (cdk8s mappers), built-in types (kubernetes-models),
 *      API-server enums, names and labels;
 *   2. upstream schemas: the committed imports/upstream (pinned Kubernetes 1.28 definitions and CRDs);
 *   3. policy: labels, Pod Security restricted, hygiene, availability, secrets;
 *   4. references within a region folder (plus the global argocd folder);
 *   5. wiring: every declared runtime connection walked hop by hop, and no allow rule that
 *      carries none (wiring/, given the declaration in options.connections).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { timed } from '../timings';
import { flushCodeCaches } from './cache';
import { Context } from './context';
import { checkEnums } from './enums';
import { checkKnownFields } from './known-fields';
import { checkKubernetesTypes } from './kubernetes-types';
import { loadTree, regionOfFile, regionOfRelative } from './load';
import { checkMetadata } from './metadata';
import { checkPdb, checkTopologySpread } from './policy/availability';
import { checkEnvUnique, checkImagePinned, checkProbes, checkReadOnlyRootFs, checkResources } from './policy/containers';
import { checkLabels } from './policy/labels';
import { checkNamespacePodSecurity } from './policy/namespaces';
import { checkPodSecurity } from './policy/pod-security';
import { checkNoSecretData, checkSecretEnvLiteral } from './policy/secrets';
import { checkGatewayHosts } from './policy/istio';
import { checkLimitRangeMax, checkQuotaHoldsWorkloads } from './policy/quotas';
import { checkHpaBounds } from './policy/scaling';
import { checkIgnoredListKept } from './policy/argocd';
import { duplicateObjects } from './policy/duplicates';
import { checkS3Region, checkWalgPrefixes } from './policy/walg-prefixes';
import { checkStandbySlots } from './policy/standby-slots';
import { checkPgbouncerDatabases } from './policy/pgbouncer-databases';
import {
  checkConfigRefs, checkNamespaceRef, checkPdbSelector, checkRolloutRefs, checkScaleTarget, checkServiceSelector, checkStatefulSetService,
  checkStorageClassRefs,
} from './references';
import { checkIstioDestinations, checkIstioGatewayHosts, checkRolloutTrafficRouting, checkSubsetLabels } from './istio-routes';
import { checkAlertmanagerReceivers, checkAlertmanagerSecrets, checkAlertSeverity, checkDashboardLabel, checkPodMonitorTargets, checkPrometheusRetention, checkPrometheusSelects, checkServiceMonitorTargets } from './monitoring-refs';
import { checkCronSchedule } from './policy/cron';
import { checkPromqlSyntax } from './policy/promql';
import { checkArgoDirectoryGlobs, checkArgoSourcePaths } from './policy/argocd-paths';
import { checkArgoDestinations, checkArgoSourceRepos } from './policy/argocd-destinations';
import { checkMtlsStrict } from './policy/mtls';
import { checkDisruptionAllowed } from './policy/disruption';
import { checkStorageEncrypted } from './policy/storage';
import { checkRolloutSpec } from './policy/rollouts';
import { checkDnsRegion, checkDrainGrace, checkPatroniNamespace } from './policy/region-consistency';
import { checkSyncWaveOrder } from './policy/sync-waves';
import { checkMeshPortProtocol } from './policy/mesh-protocol';
import { checkRedisMasterNames } from './redis-refs';
import { checkConfigEndpoints } from './config-endpoints';
import { checkOtlpProtocol } from './otlp-exporters';
import { checkAlertmanagerConfigRef, checkAlertmanagerEndpoints } from './alertmanager-refs';
import { checkRecordedSeries } from './policy/recorded-series';
import { checkMeshProviders, checkMeshTracingTransport } from './policy/mesh-tracing';
import { checkOtelLoadBalancing, checkOtelPipelines } from './policy/otel-pipeline';
import { checkSidecarQuitPort } from './policy/sidecar-quit';
import { checkHpaMetrics } from './policy/hpa-metrics';
import { checkScriptEnv } from './script-env';
import { checkPodDnsNames } from './pod-dns';
import { checkPrometheusDiscoveryRbac } from './policy/prometheus-rbac';
import { checkAnalysisArgs } from './analysis-args';
import { checkAffinitySelectors } from './affinity-refs';
import { checkPatroniLabels } from './patroni-labels';
import { checkPgbouncerBudget } from './pgbouncer-budget';
import { checkListenPorts } from './listen-ports';
import { checkCommandFilePaths, checkConfigFilePaths } from './config-file-paths';
import { checkRbacRefs } from './rbac-refs';
import { checkSchedulingRefs } from './scheduling-refs';
import { checkConfigKeys, checkProbePorts, checkVolumeMounts, checkWorkloadSelector } from './pod-template-refs';
import { formatReport, sortFindings } from './report';
import { describeObject, Entry, isRecord, LoadedObject, RawFinding, ValidateOptions, ValidationReport } from './types';
import { resolveSchemaDir, upstreamSchemas } from './upstream-schema';
import { checkWiring } from './wiring';

export type { Finding, LoadedObject, ValidateOptions, ValidationReport } from './types';
export { EXTERNAL_NAMESPACES, PLATFORM_NAMESPACES } from './references';
export { formatReport };

type ObjectRule = (e: Entry) => RawFinding[];
type ContextRule = (e: Entry, ctx: Context) => RawFinding[];

/** Rules that look at one object at a time. */
const OBJECT_RULES: ObjectRule[] = [
  // Order matters on duplicates (same path and rule, see dedupe): enums.ts words enum errors
  // best, kubernetes-models words type errors better than a crashed mapper does.
  checkEnums, checkKubernetesTypes, checkKnownFields, checkMetadata,
  checkLabels, checkPodSecurity, checkReadOnlyRootFs, checkResources, checkProbes, checkImagePinned,
  checkNoSecretData, checkSecretEnvLiteral, checkNamespacePodSecurity, checkGatewayHosts, checkHpaBounds, checkIgnoredListKept,
  checkVolumeMounts, checkProbePorts, checkWorkloadSelector, checkAlertmanagerReceivers, checkCronSchedule, checkPromqlSyntax, checkMtlsStrict, checkDisruptionAllowed, checkStorageEncrypted, checkRolloutSpec, checkEnvUnique, checkDnsRegion, checkPatroniNamespace, checkDrainGrace, checkPrometheusRetention, checkS3Region, checkOtelPipelines, checkSidecarQuitPort,
];

/** The in-repo schema layers that the upstream schemas cover: field names and built-in types. */
const COVERED_BY_UPSTREAM = new Set<ObjectRule>([checkKnownFields, checkKubernetesTypes]);
const OBJECT_RULES_AFTER_UPSTREAM = OBJECT_RULES.filter((rule) => !COVERED_BY_UPSTREAM.has(rule));

/** Rules that need the other objects of the region. */
const CONTEXT_RULES: ContextRule[] = [
  checkTopologySpread, checkPdb,
  checkNamespaceRef, checkServiceSelector, checkScaleTarget, checkPdbSelector, checkConfigRefs, checkStatefulSetService, checkRolloutRefs,
  checkStorageClassRefs, checkConfigKeys, checkIstioDestinations, checkIstioGatewayHosts, checkRolloutTrafficRouting, checkPodMonitorTargets, checkArgoSourcePaths, checkRbacRefs, checkSchedulingRefs, checkArgoDestinations,
  checkSyncWaveOrder, checkMeshPortProtocol, checkRedisMasterNames, checkPrometheusSelects, checkAlertSeverity, checkAlertmanagerSecrets, checkDashboardLabel, checkConfigEndpoints, checkOtlpProtocol, checkAlertmanagerEndpoints, checkAlertmanagerConfigRef, checkRecordedSeries, checkMeshProviders, checkMeshTracingTransport, checkOtelLoadBalancing, checkHpaMetrics, checkScriptEnv, checkPodDnsNames, checkPrometheusDiscoveryRbac,
  checkAnalysisArgs, checkAffinitySelectors, checkPatroniLabels, checkPgbouncerBudget, checkListenPorts, checkConfigFilePaths, checkCommandFilePaths, checkArgoDirectoryGlobs, checkSubsetLabels, checkArgoSourceRepos, checkServiceMonitorTargets,
  checkQuotaHoldsWorkloads, checkLimitRangeMax,
];

function toEntries(objects: LoadedObject[]): Entry[] {
  return objects.filter((o) => isRecord(o.object)).map((o) => ({
    file: o.file,
    index: o.index,
    obj: o.object as Record<string, any>,
    region: o.region === undefined ? regionOfFile(o.file) : o.region,
    id: describeObject(o.object),
  }));
}

/**
 * Drops repeated findings. schema-enum and schema-type are reported by two layers each
 * (enums.ts / kubernetes-models, kubernetes-models / known-fields) in different words: one per
 * path is enough, the first wins.
 */
const PER_PATH = new Set(['schema-enum', 'schema-type']);

function dedupe(findings: RawFinding[]): RawFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}\0${f.index}\0${f.path}\0${f.rule}\0${PER_PATH.has(f.rule) ? '' : f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `context`: objects the wiring check may walk through (a --region synth's current argocd/).
 * `alongside`: objects of the same tree validated elsewhere (by another synth thread): every rule
 * sees them as it would in one run over the whole tree, but they are not judged here.
 */
function run(
  objects: LoadedObject[], options: ValidateOptions, extra: RawFinding[], files: number, context: LoadedObject[] = [], alongside: LoadedObject[] = [],
): ValidationReport {
  const entries = toEntries(objects);
  const others = toEntries(alongside);
  const findings: RawFinding[] = [...extra];
  for (const o of objects) {
    if (!isRecord(o.object)) {
      findings.push({ file: o.file, index: o.index, object: describeObject(o.object), path: '', rule: 'yaml', message: 'document is not a mapping', hint: 'one Kubernetes object per YAML document' });
    }
  }
  const notes: string[] = [];
  const { dir, note } = resolveSchemaDir(options.schemaDir);
  if (note) notes.push(note);
  // The upstream layer first: an object its strict schema settles (the API server's own schema,
  // unknown fields refused) gives the in-repo schema layers nothing to find, so they only run to
  // word the problems of an object it refuses (test/validate/schema-layers.test.ts).
  const upstreamFindings: RawFinding[] = [];
  const acceptedUpstream = new Set<Entry>();
  if (dir) {
    const upstream = upstreamSchemas(dir);
    for (const e of entries) {
      const found = timed('validation: upstream schemas', () => upstream.validate(e));
      if (upstream.settles(e, found)) acceptedUpstream.add(e);
      upstreamFindings.push(...found);
    }
  }
  timed('validation: rules', () => {
    findings.push(...duplicateObjects(entries));
    const ctx = new Context([...entries, ...others]);
    if (options.treeRules !== false) findings.push(...treeRuleFindings(entries, [...entries, ...others], ctx));
    for (const e of entries) {
      const rules = acceptedUpstream.has(e) ? OBJECT_RULES_AFTER_UPSTREAM : OBJECT_RULES;
      for (const rule of rules) findings.push(...rule(e));
      for (const rule of CONTEXT_RULES) findings.push(...rule(e, ctx));
    }
  });
  findings.push(...upstreamFindings);
  if (options.connections) {
    const connections = options.connections;
    const wiring = timed('validation: wiring check', () => checkWiring([...entries, ...others, ...toEntries(context)], connections));
    findings.push(...wiring.findings);
    notes.push(...wiring.notes);
  } else {
    notes.push('wiring check off: no connection declaration given');
  }
  flushCodeCaches();
  return { findings: sortFindings(dedupe(findings)), files, objects: entries.length, notes };
}

/** Validates already-parsed objects (tests). The region comes from `region` or the file's folder. */
export function validateObjects(objects: LoadedObject[], options: ValidateOptions = {}): ValidationReport {
  return run(objects, options, [], new Set(objects.map((o) => o.file)).size);
}

/**
 * Validates rendered files from memory (synth): the documents each YAML file was written from,
 * reported under `<root>/<file>` as if read from disk, without parsing the YAML back.
 * `npm run validate` reads the files themselves (validateTree).
 */
export function validateRendered(
  root: string, files: readonly { readonly path: string; readonly documents?: readonly unknown[] }[], options: ValidateOptions = {},
): ValidationReport {
  return validateRenderedRegions(root, files, [], options);
}

/**
 * Validates some region folders of a rendered tree, with its global folder (`alongside`, judged by
 * whoever validates it) in view of every rule: what one thread of a parallel synth checks. The
 * reports of all threads together equal validateRendered over the whole tree
 * (test/synth/parallel.test.ts). Without `alongside` and without the global folder among `files`
 * (a --region synth), the global folder under `options.contextDir` is what the wiring check walks
 * through next to them.
 */
export function validateRenderedRegions(
  root: string,
  files: readonly { readonly path: string; readonly documents?: readonly unknown[] }[],
  alongside: readonly { readonly path: string; readonly documents?: readonly unknown[] }[],
  options: ValidateOptions = {},
): ValidationReport {
  const loaded = (list: typeof files): LoadedObject[] =>
    list.filter((f) => f.path.endsWith('.yaml')).flatMap((f) =>
      (f.documents ?? []).map((object, index) => ({ file: path.join(root, f.path).split(path.sep).join('/'), index, object, region: regionOfRelative(f.path) })));
  const objects = loaded(files);
  const hasGlobal = alongside.length > 0 || objects.some((o) => o.region === null);
  const context = options.contextDir && fs.existsSync(options.contextDir) && !hasGlobal
    ? loadTree(path.normalize(options.contextDir)).objects.filter((o) => (o.region === undefined ? regionOfFile(o.file) : o.region) === null)
    : [];
  return run(objects, options, [], files.filter((f) => f.path.endsWith('.yaml')).length, context, loaded(alongside));
}

/** The rules that need every region folder in view at once (ValidateOptions.treeRules). */
function treeRuleFindings(judged: readonly Entry[], all: readonly Entry[], ctx?: Context): RawFinding[] {
  return [...checkWalgPrefixes(judged, all), ...checkStandbySlots(judged, all), ...checkPgbouncerDatabases(judged, all, ctx)];
}

/**
 * The whole-tree rules over rendered files from memory, as part of a parallel synth: each thread
 * validated its regions with `treeRules: false`, and this sees all of them.
 */
export function treeFindings(root: string, files: readonly { readonly path: string; readonly documents?: readonly unknown[] }[]): ValidationReport {
  const objects = files.filter((f) => f.path.endsWith('.yaml')).flatMap((f) =>
    (f.documents ?? []).map((object, index) => ({ file: path.join(root, f.path).split(path.sep).join('/'), index, object, region: regionOfRelative(f.path) })));
  const entries = toEntries(objects);
  return { findings: sortFindings(dedupe(timed('validation: rules', () => treeRuleFindings(entries, entries)))), files: 0, objects: 0, notes: [] };
}

/** One report from the reports of the threads of a parallel synth (each judged other files). */
export function mergeReports(reports: readonly ValidationReport[]): ValidationReport {
  const seen = new Set<string>();
  const findings = reports.flatMap((r) => r.findings).filter((f) => {
    const key = JSON.stringify(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Each report is in order and the threads judged different files: ordering by file keeps both.
  const order = findings.map((f, i) => ({ f, i })).sort((a, b) => (a.f.file < b.f.file ? -1 : a.f.file > b.f.file ? 1 : a.i - b.i));
  return {
    findings: order.map(({ f }) => f),
    files: reports.reduce((n, r) => n + r.files, 0),
    objects: reports.reduce((n, r) => n + r.objects, 0),
    notes: [...new Set(reports.flatMap((r) => r.notes))],
  };
}

/** Validates a rendered tree: `<root>/<region>/*.yaml` and `<root>/argocd/*.yaml`. */
export function validateTree(root: string, options: ValidateOptions = {}): ValidationReport {
  const tree = loadTree(path.normalize(root));
  // Only the global folder is context: another region is another cluster.
  const regionOf = (o: LoadedObject) => (o.region === undefined ? regionOfFile(o.file) : o.region);
  const hasGlobal = tree.objects.some((o) => regionOf(o) === null);
  const context = options.contextDir && fs.existsSync(options.contextDir) && !hasGlobal
    ? loadTree(path.normalize(options.contextDir)).objects.filter((o) => regionOf(o) === null)
    : [];
  return run(tree.objects, options, tree.findings, tree.files, context);
}
