/**
 * The region model: the only input of the generator.
 *
 * One TypeBox definition gives three things that must never disagree: the TypeScript types the
 * charts are written against (`Static<>`), the JSON Schema ajv checks each YAML file with
 * (unknown fields rejected), and the schema files under regions/schema/ that editors load
 * through the `yaml-language-server` modeline (`npm run schema` writes them; a test fails when
 * they are stale).
 *
 * Plain data only: no cdk8s, no chart imports (see DESIGN.md, dependency rules).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Objects reject unknown fields: a typo in a region file is an error, never silently ignored. */
const Strict = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, description });

const DnsLabel = (description: string) =>
  Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description });

/** A Kubernetes quantity such as `500m`, `2`, `512Mi`, `1.5Gi`. */
export const Quantity = (description: string) =>
  Type.String({
    pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$',
    description: `${description} (Kubernetes quantity, e.g. 500m, 2, 512Mi, 10Gi)`,
  });

const RedisTier = (description: string) =>
  Type.Object(
    {
      maxmemory: Quantity('Redis maxmemory; must stay below the container memory limit'),
      resources: Type.Object(
        {
          requests: Type.Object({ cpu: Quantity('CPU'), memory: Quantity('Memory') }, { additionalProperties: false, description: 'Requested per Redis pod' }),
          limits: Type.Object({ memory: Quantity('Memory limit per Redis pod') }, { additionalProperties: false, description: 'Limits' }),
        },
        { additionalProperties: false, description: 'Resources of each Redis pod' },
      ),
      storage: Type.Optional(Quantity('Persistent volume per pod (tiers with persistence only)')),
      storageClassName: Type.Optional(
        DnsLabel('StorageClass of that volume: one of ours (charts/storage), the Retain class since a persisted tier holds data (set exactly when storage is)'),
      ),
    },
    { additionalProperties: false, description },
  );

const Version = Type.String({
  pattern: '^(?!latest$)[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$',
  description: 'Release version: the image tag and the app.kubernetes.io/version label (e.g. 2.14.3, 3.3-p3; never "latest")',
});

export const ImageRelease = Strict(
  {
    repository: Type.String({
      pattern: '^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$',
      description: 'Image repository without tag, e.g. ghcr.io/bookedbarber/api',
    }),
    version: Version,
    digest: Type.Optional(
      Type.String({
        pattern: '^sha256:[a-f0-9]{64}$',
        description: 'Optional content digest; when set the image is pulled by tag@digest',
      }),
    ),
  },
  'A released image: repository, version tag and optional digest',
);

const Duration = (description: string) =>
  Type.String({ pattern: '^[1-9][0-9]*(s|m|h)$', description: `${description} (e.g. 30s, 1m, 2h)` });

const Hostname = (description: string) =>
  Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$', maxLength: 253, description });

/** A path (and query) requested by a release test: no whitespace, quotes or backslashes (it is rendered into scripts). */
const RequestPath = (description: string) => Type.String({ pattern: '^/[^\\s\'"`\\\\]*$', maxLength: 512, description });

/** Text a response must contain: one line, short enough to read in a failure message. */
const Marker = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\n]*$', description });

/** The web front end's smoke-test suite (charts/web/smoke-suite.mjs): the routes and budgets a release of the web must meet. */
const WebSmokeTest = Strict(
  {
    homeMarker: Marker('Text the home page must contain (e.g. part of its <title>): proves the real page rendered, not a placeholder or an error page'),
    notFoundMarker: Marker("Text of the site's own 404 page"),
    bookingReads: Type.Array(
      Strict(
        {
          path: RequestPath('A read-only page or endpoint of the booking flow (GET; a smoke test never books)'),
          contentType: Type.Union([Type.Literal('text/html'), Type.Literal('application/json')], { description: 'Media type it answers with' }),
          contains: Marker('Text the answer must contain'),
        },
        'One booking-flow read the preview must answer with 200',
      ),
      { minItems: 1, maxItems: 50, description: 'Booking-flow reads (locations, services, availability), each one check and all sampled for latency' },
    ),
    assets: Type.Array(
      Strict(
        {
          path: RequestPath('A static file with a fixed name (assets whose names change every build are found through the home page)'),
          contentType: Type.String({ pattern: '^[a-z]+/[a-z0-9.+-]*$', description: "Expected media type, or a prefix ending in '/' (image/)" }),
        },
        'A fixed-name static file',
      ),
      { maxItems: 50, description: 'Fixed-name static files (favicon, robots.txt)' },
    ),
    redirects: Type.Array(
      Strict(
        {
          from: RequestPath('Old or alternative address'),
          to: RequestPath('Where it must send the browser, on ingress.webHost'),
          status: Type.Union([Type.Literal(301), Type.Literal(302), Type.Literal(303), Type.Literal(307), Type.Literal(308)], { description: 'Redirect status' }),
        },
        'A redirect that must keep working',
      ),
      { maxItems: 50, description: 'Redirects that must keep working (bookmarks, links in e-mails)' },
    ),
    openRedirectProbe: RequestPath('A path that carries another site in a redirect parameter (e.g. /login?next=https://smoke-test.invalid/): the site must not send the browser there'),
    latencySamples: Type.Integer({
      minimum: 20,
      maximum: 200,
      description: 'Requests per latency check (p95 of them against delivery.web.analysis.maxLatencyP95Ms); at least 20, so the p95 is not simply the slowest one',
    }),
    maxPageKiB: Type.Integer({ minimum: 16, maximum: 10240, description: 'Page-weight budget of the home page (KiB on the wire)' }),
    minAssetMaxAgeSeconds: Type.Integer({
      minimum: 3600,
      maximum: 31536000,
      description: 'Least Cache-Control max-age of the scripts and stylesheets the home page links (their names change every build, so they can be cached long)',
    }),
    requestTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 60, description: 'How long one request may take before its check fails' }),
    deadlineSeconds: Type.Integer({ minimum: 60, maximum: 1800, description: 'How long the whole suite may run; checks not started by then fail' }),
  },
  'Smoke tests that gate the web promotion: a Job of the pre-promotion analysis runs them against the preview Service (charts/web/smoke-test.ts); any failed check aborts the release',
);

const CpuMemory = (description: string) =>
  Strict({ cpu: Quantity('CPU'), memory: Quantity('Memory') }, description);

/** What the release gate measures, on Istio's request metrics of the new version only. */
export const AnalysisThresholds = Strict(
  {
    interval: Duration('Time between two measurements'),
    count: Type.Integer({ minimum: 1, maximum: 60, description: 'Measurements per analysis run' }),
    failureLimit: Type.Integer({
      minimum: 0,
      description: 'Failed measurements tolerated; one more aborts the release and shifts traffic back to stable',
    }),
    minSuccessRate: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Lowest share of non-5xx responses, e.g. 0.999 for 99.9 %',
    }),
    maxLatencyP95Ms: Type.Integer({ minimum: 1, description: '95th percentile request duration ceiling in milliseconds' }),
  },
  'Prometheus analysis thresholds of a release',
);

/** How one of our HTTP services runs: port, probes, size, autoscaling targets, VPA bounds. */
export const ServiceWorkload = Strict(
  {
    port: Type.Integer({ minimum: 1024, maximum: 65535, description: 'Container HTTP port (unprivileged)' }),
    livenessPath: Type.String({ pattern: '^/\\S*$', description: 'HTTP path of the liveness probe' }),
    readinessPath: Type.String({ pattern: '^/\\S*$', description: 'HTTP path of the readiness probe' }),
    resources: Strict(
      {
        requests: CpuMemory('Requested per pod'),
        limits: Strict({ memory: Quantity('Memory limit per pod') }, 'Limits per pod (no CPU limit: it throttles)'),
      },
      'Container resources',
    ),
    targetCpuUtilization: Type.Integer({ minimum: 10, maximum: 95, description: 'HPA target: average CPU use in % of the request' }),
    targetRequestsPerSecond: Type.Integer({ minimum: 1, description: 'HPA target: average requests per second per pod' }),
    vpa: Strict(
      { minAllowed: CpuMemory('Smallest recommendation'), maxAllowed: CpuMemory('Largest recommendation') },
      'Bounds of the VerticalPodAutoscaler recommendation',
    ),
  },
  'Runtime settings of a service',
);

const UsdPrice = (description: string) => Type.Number({ exclusiveMinimum: 0, description: `${description} (USD)` });

/** One published on-demand instance price: two of them give the price of a vCPU-hour and a GiB-hour. */
const ReferenceInstance = Strict(
  {
    type: Type.String({ pattern: '^[a-z0-9-]+\\.[a-z0-9-]+$', description: 'EC2 instance type, e.g. m6i.xlarge' }),
    vcpu: Type.Integer({ minimum: 1, description: 'Its vCPUs' }),
    memoryGiB: Type.Number({ exclusiveMinimum: 0, description: 'Its memory in GiB' }),
    hourly: UsdPrice('Published Linux on-demand price per instance-hour in this region'),
  },
  'A reference instance type and its published hourly price',
);

/** The pinned price table of the cost estimate (tools/cost, docs/cost.md): dated, its sources named. */
export const PricingConfig = Strict(
  {
    date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'Day the prices were read from the sources (YYYY-MM-DD)' }),
    sources: Type.Array(Type.String({ pattern: '^https://\\S+$' }), { minItems: 1, description: 'Pages the prices come from' }),
    hoursPerMonth: Type.Number({ minimum: 672, maximum: 744, description: 'Hours in a billed month (AWS uses 730)' }),
    spotDiscountPercent: Type.Number({ minimum: 0, maximum: 95, description: 'Spot price below on-demand, in %, for the spot NodePool. An assumption (Spot prices move every few minutes)' }),
    riskIncreasePercent: Type.Number({ exclusiveMinimum: 0, description: 'npm run diff flags a change that raises a region\'s monthly estimate at max scale by more than this %' }),
    backups: Strict(
      {
        dataFillRatio: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of a Postgres volume the database fills. An assumption' }),
        compressionRatio: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Compressed / raw size of base backups and WAL (lz4). An assumption' }),
        walPerDayRatio: Type.Number({ minimum: 0, description: 'WAL written per day / database size. An assumption' }),
      },
      'How large the WAL-G archive of a Postgres site is, from its volume size and retention (assumptions, no measurements yet)',
    ),
    regions: Type.Record(
      Type.String({ pattern: '^[a-z]{2}-[a-z]+-[0-9]$' }),
      Strict(
        {
          referenceInstances: Type.Array(ReferenceInstance, {
            minItems: 2,
            maxItems: 2,
            description: 'Two instance types with the same vCPUs and different memory (e.g. m6i.xlarge, r6i.xlarge): their prices solve for the price of a vCPU-hour and a GiB-hour',
          }),
          blockStorageGbMonth: Type.Record(Type.String({ pattern: '^[a-z0-9]+$' }), UsdPrice('Price per GB-month'), {
            description: 'EBS volume price per GB-month by volume type (the StorageClass parameter `type`), e.g. gp3',
          }),
          objectStorageGbMonth: UsdPrice('S3 Standard price per GB-month (first 50 TB)'),
          loadBalancerHour: UsdPrice('Network Load Balancer price per hour (NLCU usage not included)'),
        },
        'Published prices in one region',
      ),
      { description: 'Prices per region name' },
    ),
  },
  'Pinned price table of the monthly cost estimate in dist/<region>/README.md and npm run diff',
);

export const GlobalConfig = Strict(
  {
    pricing: Type.Optional(PricingConfig),
    platform: Strict(
      {
        name: DnsLabel('Platform name: prefix of every object and namespace name, app.kubernetes.io/part-of'),
        environment: Type.Union([Type.Literal('production'), Type.Literal('staging')], {
          description: 'Deployment environment of every region in this repository',
        }),
      },
      'Platform identity',
    ),
    franchiseIds: Strict(
      {
        first: Type.Integer({ minimum: 1, description: 'Lowest franchise ID' }),
        last: Type.Integer({ minimum: 1, description: 'Highest franchise ID' }),
      },
      'The franchise ID space the shards must cover with no gap and no overlap',
    ),
    git: Strict(
      {
        repoURL: Type.String({ pattern: '^(https://|ssh://|git@)\\S+$', description: 'Repository Argo CD syncs dist/ from' }),
        targetRevision: Type.String({ minLength: 1, description: 'Branch or tag Argo CD tracks' }),
      },
      'Where Argo CD reads the rendered manifests',
    ),
    argocd: Strict(
      {
        namespace: DnsLabel('Namespace Argo CD runs in (AppProject, ApplicationSet live there)'),
        project: DnsLabel('AppProject that confines every region Application'),
      },
      'Argo CD settings shared by all regions',
    ),
    releases: Strict(
      {
        api: ImageRelease,
        web: ImageRelease,
      },
      'Our own images every region runs, bumped by the release pipeline (third-party images are in regions/versions.yaml)',
    ),
    workloads: Strict({ api: ServiceWorkload, web: ServiceWorkload }, 'How the API and the web front end run'),
    delivery: Strict(
      {
        api: Strict(
          {
            canarySteps: Type.Array(Type.Integer({ minimum: 1, maximum: 99 }), {
              minItems: 1,
              description: 'Traffic weights (%) of the canary, each followed by an analysis; 100 comes last on its own',
            }),
            analysis: AnalysisThresholds,
            loadTest: Strict(
              {
                requestsPerSecond: Type.Integer({
                  minimum: 1,
                  description: 'Constant arrival rate (requests per second) the k6 Job sends to the canary Service alone',
                }),
                duration: Duration('How long the load test runs'),
                paths: Type.Array(RequestPath('Path of a GET request (read-only: a load test never books)'), {
                  minItems: 1,
                  uniqueItems: true,
                  description: 'Paths requested in turn; p95 and error thresholds come from delivery.api.analysis',
                }),
              },
              'Load test that gates the canary before it goes past 50 % (k6, constant-arrival-rate; fails on p95 above analysis.maxLatencyP95Ms or an error rate above 1 - analysis.minSuccessRate)',
            ),
            abortScaling: Type.Optional(
              Type.Union([Type.Literal('instant'), Type.Literal('dynamic')], {
                default: 'instant',
                description:
                  'instant (default): the stable ReplicaSet stays at full size during the canary (dynamicStableScale false), so an abort moves all traffic back at once; the app quota must hold the stable API plus the canary at 100 % (promotion). dynamic: stable shrinks as the canary grows (dynamicStableScale true), the quota holds the largest weight step on top of the API, and an abort waits for stable pods to start',
              }),
            ),
          },
          'Canary release of the API',
        ),
        web: Strict(
          {
            scaleDownDelaySeconds: Type.Integer({
              minimum: 30,
              description: 'How long the old stack keeps running after promotion, for an instant rollback',
            }),
            analysis: AnalysisThresholds,
            smokeTest: WebSmokeTest,
          },
          'Blue-green release of the web front end',
        ),
      },
      'Progressive delivery with Argo Rollouts',
    ),
    ingress: Strict(
      {
        webHost: Hostname('Public host name of the web front end'),
        apiHost: Hostname('Public host name of the API'),
        tlsCredentialName: DnsLabel('Secret (in the ingress gateway namespace) holding the TLS certificate, by reference'),
      },
      'Public entry through the Istio ingress gateway',
    ),
    dns: Strict(
      {
        zone: Hostname('Route 53 public hosted zone holding ingress.webHost and ingress.apiHost (external-dns domainFilters)'),
        ttlSeconds: Type.Integer({
          minimum: 1,
          maximum: 3600,
          description: 'TTL of the public records: resolvers keep answering with a failed region this long after Route 53 dropped it',
        }),
        healthCheck: Strict(
          {
            requestIntervalSeconds: Type.Union([Type.Literal(10), Type.Literal(30)], {
              description: 'RequestInterval of every region\'s Route 53 health check (10 = fast, 30 = standard)',
            }),
            failureThreshold: Type.Integer({
              minimum: 1,
              maximum: 10,
              description: 'FailureThreshold of those health checks: consecutive failed checks before a region is unhealthy',
            }),
          },
          'Settings of the Route 53 health checks (created outside Kubernetes, by their IDs in the region files): the infrastructure code must create them with these values',
        ),
      },
      'Public DNS (Route 53): every region answers ingress.webHost and ingress.apiHost with latency-based, health-checked records (external-dns, charts/dns)',
    ),
    nodes: Strict(
      {
        packingEfficiency: Type.Number({
          minimum: 0.5,
          maximum: 0.95,
          description:
            "Share of a node's CPU the pods' requests fill (the rest: kubelet and system reserve, DaemonSets, bin-packing waste). Turns pod requests into the node CPU each NodePool's limits must allow",
        }),
        rootVolumeGiB: Type.Integer({
          minimum: 20,
          maximum: 500,
          description: "Each node's root EBS volume (images, container logs, emptyDirs), encrypted with the region's KMS key",
        }),
        appExpireAfter: Duration(
          'Age at which Karpenter replaces an API or web node (fresh kernel and AMI patches); platform nodes (data tier, monitoring, ingress) never expire and are replaced only on drift, one at a time',
        ),
        consolidateAfter: Duration('How long an API or web node must stay underutilized or empty before Karpenter consolidates it'),
        addonsCpu: Type.Integer({
          minimum: 1,
          maximum: 1000,
          description:
            'CPU the add-ons request on platform nodes (Istio control plane and gateways, operators, Grafana, kube-state-metrics, the release-gate Jobs): added to the data and monitoring quotas to size the platform NodePool',
        }),
      },
      'Karpenter node pools of every region (charts/nodes): on-demand for the platform, on-demand base plus spot burst for the API and web',
    ),
    mesh: Strict(
      {
        traceSamplingPercent: Type.Number({
          minimum: 0,
          maximum: 100,
          description:
            'Share of requests the sidecars trace (head sampling), in %. Keep 100: the tracing chart refuses less, because a trace dropped here never reaches the tail sampler that keeps every error (thin with tracing.baselineSamplingPercent instead)',
        }),
        sidecar: Strict(
          {
            requests: CpuMemory('Requested by each istio-proxy sidecar'),
            limits: Strict({ memory: Quantity('Memory limit of each istio-proxy sidecar') }, 'Sidecar limits'),
          },
          'Resources of the Envoy sidecar in every meshed pod (counted against namespace quotas)',
        ),
      },
      'Istio mesh settings',
    ),
    monitoring: Strict(
      {
        prometheus: Strict(
          {
            replicas: Type.Integer({ minimum: 1, description: 'Prometheus replicas per region (identical, for HA)' }),
            retention: Type.String({ pattern: '^[1-9][0-9]*(h|d|w)$', description: 'How long samples are kept locally (e.g. 15d)' }),
            storage: Strict(
              {
                className: DnsLabel('StorageClass of the TSDB volume (and of Alertmanager\'s): one of ours (charts/storage)'),
                size: Quantity('TSDB volume size'),
              },
              'Prometheus storage',
            ),
            resources: Strict(
              { requests: CpuMemory('Requested per Prometheus pod'), limits: Strict({ memory: Quantity('Memory limit per Prometheus pod') }, 'Limits') },
              'Resources of each Prometheus pod',
            ),
            remoteWriteUrl: Type.Optional(Type.String({ pattern: '^https://\\S+$', description: 'Optional global store every region also writes to' })),
          },
          'Prometheus of each region (prometheus-operator)',
        ),
        alertmanager: Strict(
          {
            replicas: Type.Integer({ minimum: 1, description: 'Alertmanager replicas per region (gossip cluster)' }),
            slackChannel: Type.String({ pattern: '^#[a-z0-9_-]+$', description: 'Slack channel for warnings and criticals' }),
            businessSlackChannel: Type.String({ pattern: '^#[a-z0-9_-]+$', description: 'Slack channel for business alerts' }),
            businessEmail: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Mailbox for business alerts' }),
            emailFrom: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Sender address of alert mail' }),
            smarthost: Type.String({ pattern: '^[a-z0-9.-]+:[0-9]+$', description: 'SMTP relay host:port' }),
          },
          'Alertmanager routing; every key and webhook URL comes from the secret store',
        ),
        slo: Strict(
          {
            availability: Type.Number({ exclusiveMinimum: 0.9, exclusiveMaximum: 1, description: 'Availability objective, e.g. 0.9999' }),
            latencyP95Ms: Type.Integer({ minimum: 1, description: 'p95 request latency objective (ms)' }),
            paymentSuccessMin: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Lowest acceptable payment success ratio' }),
            bookingDropRatio: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Alert when bookings fall below this share of the same hour last week' }),
          },
          'Service level objectives and business thresholds the alerts use',
        ),
      },
      'Monitoring of every region',
    ),
    tracing: Strict(
      {
        jaeger: Strict(
          {
            storage: Strict(
              {
                type: Type.Union([Type.Literal('badger'), Type.Literal('elasticsearch')], { description: 'Jaeger span storage backend' }),
                size: Quantity('Volume size (badger) or index size hint (elasticsearch)'),
                className: DnsLabel('StorageClass (badger): one of ours (charts/storage)'),
                elasticsearch: Type.Optional(
                  Strict(
                    {
                      urlTemplate: Type.String({
                        pattern: '^https?://[^\\s/]*\\{region\\}[^\\s/]*(:[0-9]+)?/?$',
                        description:
                          'URL of the region\'s own Elasticsearch/OpenSearch cluster, {region} replaced by the region name (each region stores its traces in its own cluster: residency, no cross-region dependency)',
                      }),
                      numShards: Type.Integer({ minimum: 1, maximum: 100, description: 'Primary shards of each daily span index (Jaeger --es.num-shards)' }),
                      numReplicas: Type.Integer({
                        minimum: 1,
                        maximum: 5,
                        description: 'Replica copies of each shard (Jaeger --es.num-replicas); at least 1, so no single data node holds the only copy of a trace',
                      }),
                      jaegerReplicas: Type.Integer({ minimum: 2, description: 'Stateless Jaeger pods writing to and querying the cluster (spread over zones, PDB)' }),
                    },
                    'The external cluster (storage.type elasticsearch): provisioned outside this repository, multi-zone',
                  ),
                ),
              },
              'Where Jaeger keeps spans',
            ),
            retention: Type.String({ pattern: '^[1-9][0-9]*h$', description: 'How long spans are kept, in hours (e.g. 72h)' }),
          },
          'Jaeger',
        ),
        slowTraceMs: Type.Integer({ minimum: 1, description: 'Tail sampling keeps every trace slower than this' }),
        baselineSamplingPercent: Type.Number({ minimum: 0, maximum: 100, description: 'Share of ordinary (fast, successful) traces kept' }),
      },
      'Tracing: OpenTelemetry collector with tail sampling, exporting to Jaeger',
    ),
    secretStore: Strict(
      {
        kind: Type.Union([Type.Literal('ClusterSecretStore'), Type.Literal('SecretStore')], {
          description: 'Kind of the External Secrets store every credential is read from',
        }),
        name: DnsLabel('Name of that store (installed with External Secrets, outside this repository)'),
        refreshIntervalSeconds: Type.Integer({
          minimum: 60,
          maximum: 3600,
          description:
            'refreshInterval of every ExternalSecret: a rotated value reaches its Kubernetes Secret within this time (docs/secrets.md). At least 60: every ExternalSecret of every region reads the store once per interval. At most 3600: the rotation runbook keeps the old value valid for two intervals',
        }),
      },
      'Where credentials come from: rendered YAML only ever references them',
    ),
    postgres: Strict(
      {
        resources: Strict(
          { requests: CpuMemory('Requested per Postgres pod'), limits: Strict({ memory: Quantity('Memory limit per Postgres pod') }, 'Limits') },
          'Resources of each Postgres pod; max_connections and memory settings derive from them',
        ),
        reservedConnections: Type.Integer({
          minimum: 3,
          description: 'Connections kept for superusers, replication and the failover manager, never given to PgBouncer',
        }),
        rpoSeconds: Type.Integer({ minimum: 1, description: 'Recovery point objective: most data (seconds) a disaster may lose' }),
        rtoSeconds: Type.Integer({ minimum: 30, description: 'Recovery time objective: longest outage of a shard primary' }),
        archiveTimeoutSeconds: Type.Integer({ minimum: 1, description: 'archive_timeout: a WAL segment is archived at least this often' }),
        baseBackupSchedule: Type.String({ pattern: '^(\\S+ ){4}\\S+$', description: 'Cron schedule (UTC) of the base backup' }),
        retainFullBackups: Type.Integer({ minimum: 1, description: 'Base backups (with their WAL) kept for point-in-time recovery' }),
        baseBackupMaxAgeHours: Type.Integer({
          minimum: 1,
          maximum: 24 * 35,
          description: 'Page when a site\'s newest base backup is older than this: the schedule\'s longest gap plus the time a backup may take (6 h) plus a margin',
        }),
        apiPoolPerPod: Type.Integer({ minimum: 1, description: 'Database connections each API pod opens to each shard (every region\'s API reaches every shard)' }),
        walRetrieveRetryIntervalSeconds: Type.Integer({
          minimum: 1,
          maximum: 60,
          description: 'wal_retrieve_retry_interval: how often a standby whose stream broke polls the WAL archive (bounds the DR site\'s lag behind the archive)',
        }),
        walUploadBudgetSeconds: Type.Integer({
          minimum: 1,
          maximum: 300,
          description: 'Longest time WAL-G may take to upload one archived segment (lz4, in-region); part of the DR site\'s worst-case data loss',
        }),
      },
      'Postgres shards (Patroni + WAL-G)',
    ),
    pgbouncer: Strict(
      {
        resources: Strict(
          { requests: CpuMemory('Requested per PgBouncer pod'), limits: Strict({ memory: Quantity('Memory limit per PgBouncer pod') }, 'Limits') },
          'Resources of each PgBouncer pod',
        ),
      },
      'PgBouncer (transaction pooling) in front of every shard',
    ),
    redis: Strict(
      {
        tiers: Strict(
          {
            cache: RedisTier('Cache: no persistence, allkeys-lru'),
            sessions: RedisTier('Sessions: AOF everysec, noeviction'),
            rateLimit: RedisTier('Rate limits: no persistence, volatile-ttl'),
          },
          'The three Redis tiers, each 1 master + 2 replicas with 3 Sentinels',
        ),
        ttlSeconds: Strict(
          {
            cache: Type.Integer({ minimum: 1, description: 'Cache entries' }),
            sessions: Type.Integer({ minimum: 1, description: 'User sessions' }),
            rateLimit: Type.Integer({ minimum: 1, description: 'Rate-limit windows' }),
          },
          'Key lifetimes the API sets per tier',
        ),
      },
      'Redis tiers as the API uses them',
    ),
  },
  'Global settings shared by every region (regions/global.yaml)',
);

export const Residency = Type.Union([Type.Literal('us'), Type.Literal('eu'), Type.Literal('apac')], {
  description: 'Data residency zone: a shard may only live in a region of the same residency',
});

const ReplicaBounds = (description: string) =>
  Strict(
    {
      minReplicas: Type.Integer({ minimum: 1, description: 'HPA minimum pods' }),
      maxReplicas: Type.Integer({ minimum: 1, description: 'HPA maximum pods' }),
    },
    description,
  );

const NamespaceSizing = (description: string) =>
  Strict(
    {
      quota: Strict(
        {
          requestsCpu: Quantity('Sum of CPU requests of all pods'),
          requestsMemory: Quantity('Sum of memory requests of all pods'),
          limitsMemory: Quantity('Sum of memory limits of all pods'),
          pods: Type.Integer({ minimum: 1, description: 'Maximum number of pods' }),
          persistentVolumeClaims: Type.Integer({ minimum: 0, description: 'Maximum number of PVCs' }),
          requestsStorage: Quantity('Sum of storage requested by PVCs'),
        },
        'ResourceQuota of the namespace',
      ),
      containerDefaults: Strict(
        {
          requestCpu: Quantity('CPU request given to a container that sets none'),
          requestMemory: Quantity('Memory request given to a container that sets none'),
          limitMemory: Quantity('Memory limit given to a container that sets none'),
          maxCpu: Quantity('Largest CPU limit/request one container may have'),
          maxMemory: Quantity('Largest memory limit one container may have'),
        },
        'LimitRange of the namespace',
      ),
    },
    description,
  );

export const Shard = Strict(
  {
    id: Type.Integer({ minimum: 1, description: 'Shard number, unique across regions' }),
    residency: Residency,
    franchises: Strict(
      {
        first: Type.Integer({ minimum: 1, description: 'First franchise ID of the shard (inclusive)' }),
        last: Type.Integer({ minimum: 1, description: 'Last franchise ID of the shard (inclusive)' }),
      },
      'Franchise ID range homed on this shard',
    ),
    readReplicas: Type.Integer({ minimum: 0, maximum: 15, description: 'Streaming read replicas' }),
    storage: Strict(
      {
        className: DnsLabel('StorageClass of the data volumes: one of ours (charts/storage), the Retain class (<platform>-gp3-retain)'),
        size: Quantity('Size of each data volume'),
      },
      'Persistent storage of each Postgres instance',
    ),
    pgbouncer: Strict(
      {
        replicas: Type.Integer({ minimum: 2, description: 'PgBouncer pods of the shard, spread over zones (at least 2)' }),
        maxClientConnectionsPerReplica: Type.Integer({
          minimum: 100,
          description: 'max_client_conn of each PgBouncer pod; replicas x this is the shard\'s client capacity',
        }),
      },
      'Connection pooler in front of the shard (transaction pooling)',
    ),
    disasterRecovery: Strict(
      {
        region: Type.String({
          pattern: '^[a-z]{2}-[a-z]+-[0-9]$',
          description: 'Region of the DR site: another region of the same residency (a standby-only region file is fine) running a Patroni standby cluster that streams from the active site over the east-west gateways and archives WAL and base backups to its own bucket',
        }),
        members: Type.Integer({
          minimum: 1,
          maximum: 16,
          description: 'Postgres pods of the DR site: a standby leader and cascade replicas (the read replicas after a promotion)',
        }),
      },
      'Where the shard survives the loss of its home region',
    ),
    activeRegion: Type.Optional(
      Type.String({
        pattern: '^[a-z]{2}-[a-z]+-[0-9]$',
        description: 'Region whose site takes writes: the home region (the default) or disasterRecovery.region. Setting it to the DR region is the promotion: every shard map points there, the DR site leaves standby mode and the home site follows it',
      }),
    ),
  },
  'A Postgres shard homed in this region',
);

export const RegionConfig = Strict(
  {
    name: Type.String({
      pattern: '^[a-z]{2}-[a-z]+-[0-9]$',
      description: 'Cloud region id, e.g. us-east-1; must match the file name',
    }),
    provider: Type.Union([Type.Literal('aws'), Type.Literal('gcp'), Type.Literal('azure')], {
      description: 'Cloud provider (OpenTelemetry cloud.provider)',
    }),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary'), Type.Literal('standby')], {
      description: 'primary: serves users and owns the session data set (exactly one); secondary: serves users; standby: a standby-only region that hosts DR sites of shards homed elsewhere in its residency and serves no users (no autoscaling, dns or namespaces.app)',
    }),
    residency: Residency,
    zones: Type.Array(DnsLabel('Availability zone, e.g. us-east-1a'), {
      minItems: 2,
      uniqueItems: true,
      description: 'Availability zones workloads spread across (topology.kubernetes.io/zone values)',
    }),
    rolloutWave: Type.Integer({
      minimum: 1,
      description: 'Order in which Argo CD rolls a release out; unique per region, wave 1 goes first',
    }),
    eastWestGateway: Hostname(
      'Address other regions reach this region\'s Istio east-west gateway at (mTLS on 15443), for cross-region shard traffic',
    ),
    dns: Type.Optional(Strict(
      {
        ingressLoadBalancer: Type.Optional(
          Hostname(
            'DNS name of the load balancer of this region\'s istio-ingressgateway Service (known after its first install: kubectl -n istio-ingress get svc istio-ingressgateway -o jsonpath=\'{.status.loadBalancer.ingress[0].hostname}\'); the public records of the region point at it. Absent: the region is not in public DNS',
          ),
        ),
        healthCheckId: Type.String({
          pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
          description: 'ID of the Route 53 health check of this region\'s ingress (created outside Kubernetes with global dns.healthCheck settings); an unhealthy region stops being answered',
        }),
        externalDnsRoleArn: Type.String({
          pattern: '^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$',
          description: 'IAM role (IRSA) external-dns assumes in this region: route53:ChangeResourceRecordSets on the zone, route53:ListHostedZones and ListResourceRecordSets',
        }),
      },
      'This region in public DNS (Route 53 latency record per host, set identifier = region name); serving regions only',
    )),
    cluster: Strict(
      {
        name: DnsLabel('Cluster name as registered in Argo CD'),
        server: Type.String({ pattern: '^https://\\S+$', description: 'Kubernetes API URL Argo CD deploys to' }),
      },
      'Argo CD destination cluster',
    ),
    autoscaling: Type.Optional(Strict(
      {
        api: ReplicaBounds('Booking API pods'),
        web: ReplicaBounds('Web front end pods'),
      },
      'HPA bounds per workload; serving regions only',
    )),
    namespaces: Strict(
      {
        app: Type.Optional(NamespaceSizing('Application namespace (API, web); serving regions only')),
        data: NamespaceSizing('Data namespace (Postgres, PgBouncer, Redis)'),
        monitoring: NamespaceSizing('Monitoring namespace (Prometheus, Alertmanager, tracing)'),
      },
      'Guard rails of the namespaces this region owns',
    ),
    shards: Type.Array(Shard, { description: 'Postgres shards homed in this region (none in a standby region)' }),
    storage: Strict(
      {
        kmsKeyArn: Type.String({
          pattern:
            '^arn:aws:kms:[a-z]{2}-[a-z]+-[0-9]:[0-9]{12}:(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]+)$',
          description:
            'KMS key (key ARN or alias ARN, in this region: its region part must be the region name) every persistent volume of the region is encrypted with: kmsKeyId of our StorageClasses (charts/storage). Created outside Kubernetes; the EBS CSI driver\'s role needs kms:CreateGrant, Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey on it',
        }),
      },
      'Encryption at rest of the region\'s persistent volumes',
    ),
    backup: Strict(
      {
        bucket: Type.String({
          pattern: '^(s3|gs)://[a-z0-9][a-z0-9.-]+[a-z0-9](/[A-Za-z0-9._/-]*)?$',
          description: 'Object-storage bucket (in this region, for residency) holding WAL archives and base backups',
        }),
      },
      'Point-in-time recovery storage of the region',
    ),
  },
  'One region (regions/<name>.yaml)',
);

export type GlobalConfig = Static<typeof GlobalConfig>;
export type PricingConfig = Static<typeof PricingConfig>;
export type RegionConfig = Static<typeof RegionConfig>;
export type ShardConfig = Static<typeof Shard>;
export type ImageRelease = Static<typeof ImageRelease>;
export type ServiceWorkload = Static<typeof ServiceWorkload>;
export type RedisTierConfig = Static<ReturnType<typeof RedisTier>>;
export type AnalysisThresholds = Static<typeof AnalysisThresholds>;
export type ResidencyZone = Static<typeof Residency>;
export type NamespaceRole = keyof RegionConfig['namespaces'];
export type NamespaceSizing = NonNullable<RegionConfig['namespaces'][NamespaceRole]>;

/**
 * A region that serves users (role primary or secondary): the invariants guarantee it has
 * autoscaling, public DNS and an app namespace, which a standby region leaves out.
 */
export type ServingRegionConfig = RegionConfig & {
  readonly role: 'primary' | 'secondary';
  readonly autoscaling: NonNullable<RegionConfig['autoscaling']>;
  readonly dns: NonNullable<RegionConfig['dns']>;
  readonly namespaces: RegionConfig['namespaces'] & { readonly app: NamespaceSizing };
};

export function isServingRegion(region: RegionConfig): region is ServingRegionConfig {
  return region.role !== 'standby';
}

/** Schemas written to regions/schema/ for editors, keyed by file name. */
export const SCHEMA_FILES: Readonly<Record<string, TSchema>> = {
  'global.schema.json': GlobalConfig,
  'region.schema.json': RegionConfig,
};
