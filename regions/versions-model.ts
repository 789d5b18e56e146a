/**
 * The versions model: regions/versions.yaml, the one file pinning every third-party piece the
 * platform runs or is generated from (kube-prometheus' versions.json, in our config layer).
 *
 * - `images`: every third-party container image a chart renders.
 * - `helmCharts`: the upstream Helm chart of every platform add-on (charts/argocd).
 * - `crds`: every upstream project whose files cdk8s.yaml pins (imports/ is generated from them);
 *   test/regions/versions.test.ts keeps the commits here and the URLs there in agreement.
 *
 * Each entry says what it supports (Postgres major, Kubernetes versions, ...), so a bump is
 * reviewed against the rest of the file. Plain data only, like regions/model.ts.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ImageRelease } from './model';

const Supports = Type.String({
  minLength: 1,
  maxLength: 500,
  // One line of text: no control or invisible (zero-width, bidi) characters.
  pattern: '^[^\\u0000-\\u001f\\u007f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$',
  description: 'What this pin supports or requires (Kubernetes, Postgres major, paired component), and why this version (one line, at most 500 characters)',
});

/** One third-party image: the fields of a release plus what it supports. */
const PinnedImage = (description: string) =>
  Type.Object({ ...ImageRelease.properties, supports: Supports }, { additionalProperties: false, description });

const SemVer = (description: string) =>
  Type.String({ pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$', maxLength: 64, description: `${description} (semantic version, at most 64 characters)` });

export const CrdPin = Type.Object(
  {
    project: Type.String({
      pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$',
      maxLength: 140,
      description: 'GitHub owner/repository the pinned files come from (as in the cdk8s.yaml URLs; GitHub: owner at most 39, repository at most 100 characters)',
    }),
    version: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._/+-]*$',
      maxLength: 128,
      format: 'git-ref',
      description: 'Release (tag) the commit is, e.g. v1.8.4 (a git tag name, at most 128 characters)',
    }),
    commit: Type.String({ pattern: '^[0-9a-f]{40}$', description: 'Full commit SHA of that release: the cdk8s.yaml URLs name it' }),
    supports: Supports,
  },
  { additionalProperties: false, description: 'Upstream files pinned in cdk8s.yaml, by release commit' },
);

const CRD_PROJECTS = ['argoRollouts', 'argoCd', 'istio', 'vpa', 'prometheusOperator', 'externalSecrets', 'opentelemetryOperator', 'externalDns', 'karpenter', 'kubernetes'] as const;
export type CrdProject = (typeof CRD_PROJECTS)[number];

const HelmChart = (description: string) =>
  Type.Object(
    {
      repoURL: Type.String({
        pattern: '^https://\\S+$',
        maxLength: 2048,
        format: 'https-url',
        description: 'Helm repository (the platform AppProject allows exactly the ones used; https URL, at most 2048 characters)',
      }),
      chart: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'Chart name in that repository (Helm: lower case, at most 63 characters, it names Kubernetes objects)' }),
      version: SemVer('Exact chart version (never a range): what is deployed changes only in review'),
      appVersion: SemVer('The appVersion of that chart release: the upstream project version it installs'),
      crds: Type.Optional(
        Type.Union(
          CRD_PROJECTS.map((p) => Type.Literal(p)),
          { description: 'Entry of `crds` whose CRDs this chart installs: its version must equal appVersion' },
        ),
      ),
      supports: Supports,
    },
    { additionalProperties: false, description },
  );

const Strict = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, description });

export const VersionsConfig = Strict(
  {
    images: Strict(
      {
        spilo: PinnedImage('Spilo: Postgres + Patroni + WAL-G, every shard member and the base-backup job'),
        postgresExporter: PinnedImage('postgres_exporter sidecar of every Postgres pod'),
        pgbouncer: PinnedImage('PgBouncer in front of every shard'),
        pgbouncerExporter: PinnedImage('pgbouncer_exporter sidecar of every PgBouncer pod'),
        redis: PinnedImage('Redis and Sentinel of every tier'),
        redisExporter: PinnedImage('redis_exporter next to every Redis and Sentinel'),
        haproxy: PinnedImage('HAProxy in front of the sessions tier (writes to the primary region)'),
        prometheus: PinnedImage('Prometheus of every region (run by prometheus-operator)'),
        alertmanager: PinnedImage('Alertmanager of every region (run by prometheus-operator)'),
        otelCollector: PinnedImage('OpenTelemetry collector (gateway and tail sampler)'),
        jaeger: PinnedImage('Jaeger all-in-one (collector + query)'),
        jaegerEsIndexCleaner: PinnedImage('Jaeger Elasticsearch index cleaner (rendered only with elasticsearch storage)'),
        k6: PinnedImage('k6: the load test that gates the API canary (an Argo Rollouts analysis Job)'),
        node: PinnedImage('Node.js: runs the web smoke-test suite that gates the web promotion (an Argo Rollouts analysis Job)'),
      },
      'Every third-party container image the charts render',
    ),
    helmCharts: Strict(
      {
        istioBase: HelmChart('Istio CRDs and cluster-wide resources'),
        istioCni: HelmChart('Istio CNI node agent'),
        istiod: HelmChart('Istio control plane'),
        istioGateway: HelmChart('Istio ingress gateway'),
        externalSecrets: HelmChart('External Secrets operator'),
        kubePrometheusStack: HelmChart('prometheus-operator, kube-state-metrics and Grafana'),
        argoRollouts: HelmChart('Argo Rollouts controller'),
        vpa: HelmChart('Vertical Pod Autoscaler (recommender only)'),
        opentelemetryOperator: HelmChart('OpenTelemetry operator'),
        prometheusAdapter: HelmChart('Custom metrics API for the HPAs'),
        externalDns: HelmChart('external-dns: the Route 53 records of the public host names, from DNSEndpoints'),
      },
      'The upstream Helm chart of every platform add-on (charts/argocd/addon-catalog.ts)',
    ),
    nodeImage: Type.Object(
      {
        alias: Type.String({
          pattern: '^al2023@v[0-9]{8}$',
          description: 'EC2NodeClass amiSelectorTerms alias: the EKS-optimized Amazon Linux 2023 AMI release (amazon-eks-ami tag), never @latest: a new AMI reaches the nodes only in review, through Karpenter drift',
        }),
        supports: Supports,
      },
      { additionalProperties: false, description: 'The node operating system image of every Karpenter node (charts/nodes)' },
    ),
    crds: Strict(
      Object.fromEntries(CRD_PROJECTS.map((p) => [p, CrdPin])) as Record<CrdProject, typeof CrdPin>,
      'Every upstream project cdk8s.yaml pins files of (CRDs for imports/, schemas for the validator)',
    ),
  },
  'Every third-party version the platform pins (regions/versions.yaml)',
);

export type VersionsConfig = Static<typeof VersionsConfig>;
export type PinnedImage = VersionsConfig['images'][keyof VersionsConfig['images']];
export type HelmChartPin = VersionsConfig['helmCharts'][keyof VersionsConfig['helmCharts']];
export type CrdPin = Static<typeof CrdPin>;

/** Schema written to regions/schema/ for editors (see SCHEMA_FILES in model.ts). */
export const VERSIONS_SCHEMA_FILES: Readonly<Record<string, TSchema>> = {
  'versions.schema.json': VersionsConfig,
};
