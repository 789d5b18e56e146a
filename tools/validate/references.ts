/**
 * Layer 4 — references between objects, within one region folder (plus the global argocd
 * folder): a Service that selects no pod, an HPA on a missing Deployment or a pod naming a
 * ConfigMap that is not rendered all apply cleanly and then fail at run time.
 */
import { Context, Scope, specOf } from './context';
import { child, item } from './paths';
import { at, containersOf, podTemplates, PodTemplate } from './pod-templates';
import { formatLabels, labelSelectorMatches, mapSelectorMatches } from './selectors';
import { producedSecretName } from './external-secrets';
import { closest } from './suggest';
import { apiGroup, asArray, Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';

/** Platform namespaces we do not render but always exist (or are installed before us). */
export const PLATFORM_NAMESPACES: readonly string[] = ['kube-system', 'istio-system', 'argocd'];

/**
 * More namespaces we do not own: those the platform add-ons (installed by the Argo CD
 * Applications in dist/argocd) live in, where we may render e.g. a ServiceMonitor.
 * Add a namespace here only when an upstream chart owns it; our own namespaces must be
 * rendered as Namespace objects (with Pod Security labels) by the namespaces chart.
 * Namespaces an Argo CD Application creates (destination.namespace + CreateNamespace=true)
 * count as existing too.
 */
export const EXTERNAL_NAMESPACES: readonly string[] = ['istio-ingress', 'argo-rollouts', 'external-secrets', 'opentelemetry-operator-system', 'monitoring-system'];

/** Objects that Kubernetes (or Istio) creates in every namespace. */
const IMPLICIT_CONFIGMAPS = new Set(['kube-root-ca.crt', 'istio-ca-root-cert']);

const CLUSTER_SCOPED = new Set([
  '/Namespace', '/Node', '/PersistentVolume',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition', 'apiregistration.k8s.io/APIService',
  'scheduling.k8s.io/PriorityClass', 'node.k8s.io/RuntimeClass', 'networking.k8s.io/IngressClass',
  'storage.k8s.io/StorageClass', 'storage.k8s.io/CSIDriver', 'storage.k8s.io/CSINode', 'storage.k8s.io/VolumeAttachment',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration', 'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest', 'flowcontrol.apiserver.k8s.io/FlowSchema', 'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'external-secrets.io/ClusterSecretStore', 'external-secrets.io/ClusterExternalSecret', 'argoproj.io/ClusterAnalysisTemplate',
  'karpenter.sh/NodePool', 'karpenter.sh/NodeClaim', 'karpenter.k8s.aws/EC2NodeClass',
]);

export function isClusterScoped(obj: Record<string, unknown>): boolean {
  return CLUSTER_SCOPED.has(`${apiGroup(obj.apiVersion)}/${String(obj.kind)}`);
}

const nsOf = (e: Entry): string => namespaceOf(e.obj) ?? '';

// ---------------------------------------------------------------- ref-namespace

/** Every namespace an object of a scope may live in, computed once per scope (not per object). */
const knownNamespaces = new WeakMap<Scope, Set<string>>();

/** Namespaces Argo CD creates for Applications with `CreateNamespace=true`. */
function argoCreatedNamespaces(scope: Scope): Set<string> {
  const out = new Set<string>();
  for (const e of scope.entries) {
    if (apiGroup(e.obj.apiVersion) !== 'argoproj.io') continue;
    const spec = e.obj.kind === 'Application' ? specOf(e.obj) : e.obj.kind === 'ApplicationSet' && isRecord(specOf(e.obj).template) ? specOf(specOf(e.obj).template) : undefined;
    if (!spec) continue;
    const opts = isRecord(spec.syncPolicy) ? asArray(spec.syncPolicy.syncOptions) : [];
    const ns = isRecord(spec.destination) ? spec.destination.namespace : undefined;
    if (typeof ns === 'string' && !ns.includes('{{') && opts.includes('CreateNamespace=true')) out.add(ns);
  }
  return out;
}

export function checkNamespaceRef(e: Entry, ctx: Context): RawFinding[] {
  const ns = namespaceOf(e.obj);
  if (isClusterScoped(e.obj)) {
    return ns ? [finding(e, 'metadata.namespace', 'ref-namespace', `${String(e.obj.kind)} is cluster-scoped but sets namespace ${ns}`, 'remove metadata.namespace')] : [];
  }
  if (!ns) {
    return [finding(e, 'metadata.namespace', 'ref-namespace', `${String(e.obj.kind)} is namespaced but has no metadata.namespace (Argo CD would put it wherever the Application points)`, 'set metadata.namespace explicitly')];
  }
  const scope = ctx.scope(e);
  let known = knownNamespaces.get(scope);
  if (!known) knownNamespaces.set(scope, (known = new Set([...scope.namespaces, ...PLATFORM_NAMESPACES, ...EXTERNAL_NAMESPACES, ...argoCreatedNamespaces(scope)])));
  if (known.has(ns)) return [];
  const guess = closest(ns, scope.namespaces);
  return [finding(e, 'metadata.namespace', 'ref-namespace', `namespace ${ns} is not rendered in ${e.region ? `region folder ${e.region}` : 'the global folder'} and is not a platform namespace`,
    guess ? `did you mean ${guess}?` : 'render the Namespace in the namespaces chart, or add a platform namespace to EXTERNAL_NAMESPACES in tools/validate/references.ts')];
}

// ---------------------------------------------------------------- ref-service-selector

/**
 * Selector keys a controller sets on running pods and no pod template carries (Patroni's
 * `spilo-role`), listed on the Service so the reference check ignores exactly those keys.
 */
export const RUNTIME_SELECTOR_ANNOTATION = 'bookedbarber.com/runtime-selector-labels';

/** The keys a Service's annotation lists as set at run time (RUNTIME_SELECTOR_ANNOTATION). */
export function runtimeSelectorKeys(service: Entry): Set<string> {
  const annotations = isRecord(service.obj.metadata) && isRecord(service.obj.metadata.annotations) ? service.obj.metadata.annotations : {};
  return new Set(String(annotations[RUNTIME_SELECTOR_ANNOTATION] ?? '').split(',').map((k) => k.trim()).filter(Boolean));
}

/** A Service's selector without its run-time keys: what its pod templates must carry. */
export function templateSelector(service: Entry): Record<string, unknown> {
  const selector = isRecord(specOf(service.obj).selector) ? specOf(service.obj).selector as Record<string, unknown> : {};
  const runtime = runtimeSelectorKeys(service);
  return Object.fromEntries(Object.entries(selector).filter(([k]) => !runtime.has(k)));
}

export function checkServiceSelector(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'Service')) return [];
  const spec = specOf(e.obj);
  if (spec.type === 'ExternalName' || !isRecord(spec.selector) || Object.keys(spec.selector).length === 0) return [];
  const selector = templateSelector(e);
  if (Object.keys(selector).length === 0) {
    return [finding(e, 'spec.selector', 'ref-service-selector', `every selector key is listed in ${RUNTIME_SELECTOR_ANNOTATION}, so nothing ties the Service to a workload`,
      'keep the workload\'s selector labels in the selector and list only the controller-set keys in the annotation')];
  }
  const workloads = ctx.scope(e).workloadsIn(nsOf(e));
  if (workloads.some((w) => mapSelectorMatches(selector, w.podLabels))) return [];
  const names = workloads.map((w) => `${String(w.entry.obj.kind)} ${nameOf(w.entry.obj) ?? '?'}`).sort();
  return [finding(e, 'spec.selector', 'ref-service-selector', `selector ${formatLabels(selector)} matches no pod template in namespace ${nsOf(e)}`,
    names.length ? `compare with the pod labels of ${names.join(', ')}` : `no workload is rendered in namespace ${nsOf(e)}`)];
}

// ---------------------------------------------------------------- ref-scale-target, ref-pdb-selector

function targetRef(e: Entry, ctx: Context, field: string): RawFinding[] {
  const ref = specOf(e.obj)[field];
  const path = `spec.${field}`;
  if (!isRecord(ref) || typeof ref.kind !== 'string' || typeof ref.name !== 'string') return [];
  const scope = ctx.scope(e);
  const target = scope.named(nsOf(e), apiGroup(ref.apiVersion), ref.kind, ref.name);
  if (target) return containerMetrics(e, target);
  const sameName = scope.entries.filter((x) => nsOf(x) === nsOf(e) && nameOf(x.obj) === ref.name).map((x) => `${String(x.obj.apiVersion)} ${String(x.obj.kind)}`);
  return [finding(e, `${path}.name`, 'ref-scale-target', `${path} points at ${String(ref.apiVersion)} ${ref.kind} ${ref.name}, which is not rendered in namespace ${nsOf(e)}`,
    sameName.length ? `an object named ${ref.name} exists as ${sameName.join(', ')}: fix apiVersion/kind` : 'fix the name, or render the target')];
}

/**
 * An HPA's ContainerResource metric names a container of the target's pods: for any other name
 * the metric cannot be computed, and the HPA, missing a metric, never scales down.
 */
function containerMetrics(e: Entry, target: Entry): RawFinding[] {
  if (!isKind(e.obj, 'autoscaling', 'HorizontalPodAutoscaler')) return [];
  const templates = podTemplates(target.obj);
  const names = new Set(templates.flatMap((tpl) => containersOf(tpl, ['containers']).map((c) => c.container.name)));
  // A target without a template here (a Rollout's workloadRef) is not judged; the Istio sidecar
  // is added at admission, so it is a container of every meshed pod though no template names it.
  if (names.size === 0) return [];
  names.add('istio-proxy');
  const out: RawFinding[] = [];
  asArray(specOf(e.obj).metrics).forEach((m, i) => {
    const container = isRecord(m) && isRecord(m.containerResource) ? m.containerResource.container : undefined;
    if (typeof container !== 'string' || names.has(container)) return;
    out.push(finding(e, `${item('spec.metrics', i)}.containerResource.container`, 'ref-scale-target', `container ${container} is not a container of ${String(target.obj.kind)} ${String(nameOf(target.obj))}'s pods (${[...names].join(', ')}): the metric cannot be computed, and the HPA never scales down`,
      `name one of ${[...names].join(', ')}`));
  });
  return out;
}

export function checkScaleTarget(e: Entry, ctx: Context): RawFinding[] {
  if (isKind(e.obj, 'autoscaling', 'HorizontalPodAutoscaler')) return targetRef(e, ctx, 'scaleTargetRef');
  if (isKind(e.obj, 'autoscaling.k8s.io', 'VerticalPodAutoscaler')) return targetRef(e, ctx, 'targetRef');
  return [];
}

export function checkPdbSelector(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'policy', 'PodDisruptionBudget')) return [];
  const selector = specOf(e.obj).selector;
  if (ctx.scope(e).workloadsIn(nsOf(e)).some((w) => labelSelectorMatches(selector, w.podLabels))) return [];
  return [finding(e, 'spec.selector', 'ref-pdb-selector', `PodDisruptionBudget selector matches no workload's pods in namespace ${nsOf(e)}`,
    'use the same selector labels as the workload it protects')];
}

// ---------------------------------------------------------------- ref-config

/**
 * A ConfigMap, Secret or ServiceAccount a pod names, where, and the keys it reads from it (an
 * env var's key, a volume's items[].key), each with its path.
 */
export interface NamedRef {
  kind: 'ConfigMap' | 'Secret' | 'ServiceAccount';
  name: unknown;
  path: string;
  optional: boolean;
  keys: Array<{ key: unknown; path: string }>;
}

/** Every ConfigMap, Secret and ServiceAccount a pod template names (ref-config, ref-config-key). */
export function podRefs(tpl: PodTemplate): NamedRef[] {
  const refs: NamedRef[] = [];
  const spec = tpl.spec;
  const add = (kind: NamedRef['kind'], src: unknown, nameField: string, path: string, keyField?: string) => {
    if (!isRecord(src)) return;
    const keys = keyField
      ? [{ key: src[keyField], path: child(path, keyField) }]
      : asArray(src.items).flatMap((it, k) => (isRecord(it) ? [{ key: it.key, path: `${item(`${path}.items`, k)}.key` }] : []));
    refs.push({ kind, name: src[nameField], path: child(path, nameField), optional: src.optional === true, keys });
  };
  asArray(spec.volumes).forEach((v, i) => {
    if (!isRecord(v)) return;
    const p = item(at(tpl, 'spec.volumes'), i);
    add('ConfigMap', v.configMap, 'name', `${p}.configMap`);
    add('Secret', v.secret, 'secretName', `${p}.secret`);
    if (isRecord(v.projected)) {
      asArray(v.projected.sources).forEach((s, j) => {
        if (!isRecord(s)) return;
        const sp = item(`${p}.projected.sources`, j);
        add('ConfigMap', s.configMap, 'name', `${sp}.configMap`);
        add('Secret', s.secret, 'name', `${sp}.secret`);
      });
    }
  });
  for (const c of containersOf(tpl)) {
    asArray(c.container.envFrom).forEach((f, j) => {
      if (!isRecord(f)) return;
      const fp = item(`${c.path}.envFrom`, j);
      add('ConfigMap', f.configMapRef, 'name', `${fp}.configMapRef`);
      add('Secret', f.secretRef, 'name', `${fp}.secretRef`);
    });
    asArray(c.container.env).forEach((env, j) => {
      if (!isRecord(env) || !isRecord(env.valueFrom)) return;
      const vp = `${item(`${c.path}.env`, j)}.valueFrom`;
      add('ConfigMap', env.valueFrom.configMapKeyRef, 'name', `${vp}.configMapKeyRef`, 'key');
      add('Secret', env.valueFrom.secretKeyRef, 'name', `${vp}.secretKeyRef`, 'key');
    });
  }
  asArray(spec.imagePullSecrets).forEach((s, i) => add('Secret', s, 'name', item(at(tpl, 'spec.imagePullSecrets'), i)));
  const sa = spec.serviceAccountName ?? spec.serviceAccount;
  if (sa !== undefined) refs.push({ kind: 'ServiceAccount', name: sa, path: at(tpl, spec.serviceAccountName !== undefined ? 'spec.serviceAccountName' : 'spec.serviceAccount'), optional: false, keys: [] });
  return refs;
}

/** Secret names available in a namespace: rendered Secrets and ExternalSecret targets. */
function secretNames(scope: Scope, ns: string): Set<string> {
  const names = new Set(scope.find(ns, '', 'Secret').map((s) => nameOf(s.obj)).filter((n): n is string => !!n));
  for (const es of scope.find(ns, 'external-secrets.io', 'ExternalSecret')) {
    const name = producedSecretName(es);
    if (name) names.add(name);
  }
  return names;
}

export function checkConfigRefs(e: Entry, ctx: Context): RawFinding[] {
  const templates = podTemplates(e.obj);
  if (templates.length === 0) return [];
  const scope = ctx.scope(e);
  const ns = nsOf(e);
  const available: Record<NamedRef['kind'], Set<string>> = {
    ConfigMap: new Set([...IMPLICIT_CONFIGMAPS, ...scope.find(ns, '', 'ConfigMap').map((x) => nameOf(x.obj) ?? '')]),
    Secret: secretNames(scope, ns),
    ServiceAccount: new Set(['default', ...scope.find(ns, '', 'ServiceAccount').map((x) => nameOf(x.obj) ?? '')]),
  };
  const out: RawFinding[] = [];
  for (const tpl of templates) {
    for (const ref of podRefs(tpl)) {
      if (ref.optional || (typeof ref.name === 'string' && available[ref.kind].has(ref.name))) continue;
      const guess = typeof ref.name === 'string' ? closest(ref.name, available[ref.kind]) : undefined;
      const produced = ref.kind === 'Secret' ? ' (nor produced by an ExternalSecret)' : '';
      out.push(finding(e, ref.path, 'ref-config', `${ref.kind} ${String(ref.name)} is not rendered in namespace ${ns}${produced}`,
        guess ? `did you mean ${guess}?` : `render the ${ref.kind}${ref.kind === 'Secret' ? ' via an ExternalSecret' : ''} in ${ns}, or mark the reference optional: true if the pod can start without it`));
    }
  }
  return out;
}

// ---------------------------------------------------------------- ref-statefulset-service

export function checkStatefulSetService(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'apps', 'StatefulSet')) return [];
  const name = specOf(e.obj).serviceName;
  if (typeof name !== 'string' || name === '') return [];
  const svc = ctx.scope(e).named(nsOf(e), '', 'Service', name);
  if (!svc) return [finding(e, 'spec.serviceName', 'ref-statefulset-service', `serviceName ${name} names no Service in namespace ${nsOf(e)}`, 'render a headless Service (clusterIP: None) with that name; it gives each pod its stable DNS name')];
  if (specOf(svc.obj).clusterIP !== 'None') {
    return [finding(e, 'spec.serviceName', 'ref-statefulset-service', `Service ${name} is not headless (clusterIP is ${JSON.stringify(specOf(svc.obj).clusterIP ?? 'unset')}), so the pods get no stable DNS names`, `set clusterIP: None on Service ${name} (keep a separate ClusterIP Service for clients)`)];
  }
  return [];
}

// ---------------------------------------------------------------- ref-rollout

/** Argo Rollout → the Services and AnalysisTemplates it names (InvalidSpec at run time otherwise). */
export function checkRolloutRefs(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'argoproj.io', 'Rollout')) return [];
  const scope = ctx.scope(e);
  const ns = nsOf(e);
  const out: RawFinding[] = [];
  const strategy = isRecord(specOf(e.obj).strategy) ? specOf(e.obj).strategy : {};
  const services: Array<[string, unknown]> = [];
  for (const [kind, fields] of [['canary', ['canaryService', 'stableService']], ['blueGreen', ['activeService', 'previewService']]] as const) {
    const s = strategy[kind];
    if (isRecord(s)) for (const f of fields) if (s[f] !== undefined) services.push([`spec.strategy.${kind}.${f}`, s[f]]);
  }
  for (const [path, name] of services) {
    if (typeof name === 'string' && scope.named(ns, '', 'Service', name)) continue;
    out.push(finding(e, path, 'ref-rollout', `Service ${String(name)} is not rendered in namespace ${ns}`, 'render the Service (selecting the Rollout\'s pod labels) or fix the name'));
  }
  // templateName references anywhere in the strategy (steps, background and pre/post-promotion analysis).
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, item(path, i)));
    else if (isRecord(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'templateName' && typeof v === 'string') {
          const cluster = node.clusterScope === true;
          const found = cluster ? scope.named('', 'argoproj.io', 'ClusterAnalysisTemplate', v) : scope.named(ns, 'argoproj.io', 'AnalysisTemplate', v);
          if (!found) out.push(finding(e, child(path, k), 'ref-rollout', `${cluster ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate'} ${v} is not rendered${cluster ? '' : ` in namespace ${ns}`}`, 'render the AnalysisTemplate next to the Rollout or fix the name'));
        } else visit(v, child(path, k));
      }
    }
  };
  visit(strategy, 'spec.strategy');
  return out;
}

// ---------------------------------------------------------------- ref-storage-class

/**
 * Every claim we render → a StorageClass rendered in the same region folder. A class that does not
 * exist leaves the PVC Pending forever (the StatefulSet's pod never schedules); a claim without
 * `storageClassName` gets the cluster's default class (on EKS `gp2`, not encrypted with our key),
 * and `""` binds only to a pre-created PersistentVolume. Claims: PersistentVolumeClaims, StatefulSet
 * `volumeClaimTemplates`, and the `storage.volumeClaimTemplate` of prometheus-operator's Prometheus
 * and Alertmanager (the operator copies it into its StatefulSet).
 */
export function checkStorageClassRefs(e: Entry, ctx: Context): RawFinding[] {
  const claims: Array<[path: string, spec: unknown]> = [];
  const spec = specOf(e.obj);
  if (isKind(e.obj, '', 'PersistentVolumeClaim')) claims.push(['spec', spec]);
  else if (isKind(e.obj, 'apps', 'StatefulSet')) {
    asArray(spec.volumeClaimTemplates).forEach((t, i) => claims.push([`${item('spec.volumeClaimTemplates', i)}.spec`, isRecord(t) ? t.spec : undefined]));
  } else if (isKind(e.obj, 'monitoring.coreos.com', 'Prometheus') || isKind(e.obj, 'monitoring.coreos.com', 'Alertmanager')) {
    const template = isRecord(spec.storage) ? spec.storage.volumeClaimTemplate : undefined;
    if (isRecord(template)) claims.push(['spec.storage.volumeClaimTemplate.spec', template.spec]);
  }
  if (claims.length === 0) return [];
  const scope = ctx.scope(e);
  const rendered = scope.find('', 'storage.k8s.io', 'StorageClass').map((s) => nameOf(s.obj)).filter((n): n is string => typeof n === 'string');
  const out: RawFinding[] = [];
  for (const [path, claim] of claims) {
    const name = isRecord(claim) ? claim.storageClassName : undefined;
    const field = `${path}.storageClassName`;
    const where = e.region ? `region folder ${e.region}` : 'the global folder';
    if (typeof name !== 'string' || name === '') {
      out.push(finding(e, field, 'ref-storage-class', name === '' ? 'storageClassName "" binds only to a pre-created PersistentVolume: nothing provisions the volume' : 'no storageClassName: the claim gets the cluster\'s default class (on EKS gp2, not encrypted with our key)',
        rendered.length > 0 ? `name one of the classes rendered in ${where}: ${rendered.join(', ')}` : 'render the region\'s StorageClasses (charts/storage) and name one'));
    } else if (!rendered.includes(name)) {
      const guess = closest(name, rendered);
      out.push(finding(e, field, 'ref-storage-class', `StorageClass ${name} is not rendered in ${where}: the claim stays Pending`,
        guess ? `did you mean ${guess}?` : rendered.length > 0 ? `name one of ${rendered.join(', ')}` : 'render the region\'s StorageClasses (charts/storage)'));
    }
  }
  return out;
}
