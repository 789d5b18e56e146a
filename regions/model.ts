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
  Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, format: 'dns-label', description: `${description} (RFC 1123 label: at most 63 characters, a-z 0-9 -)` });

/**
 * Domain bounds of Kubernetes quantities, each with where it comes from (added to the field's
 * description, so the message of a value out of bounds says why). Checked by `formatMinimum` /
 * `formatMaximum` on the parsed value (regions/formats.ts).
 */
export interface QuantityBounds {
  readonly kind: 'cpu' | 'bytes';
  readonly min: string;
  readonly max: string;
  readonly why: string;
}

/** One container: CPU of at most one node. */
export const CONTAINER_CPU: QuantityBounds = {
  kind: 'cpu',
  min: '1m',
  max: '192',
  why: "1m is Kubernetes' smallest CPU unit; a container runs on one node, and the largest the NodePools launch (c/m/r, generation 6+, amd64: m7i/r7i.48xlarge) has 192 vCPU",
};
/** One container: memory of at most one node. */
export const CONTAINER_MEMORY: QuantityBounds = {
  kind: 'bytes',
  min: '1Mi',
  max: '1536Gi',
  why: 'less than 1Mi is a missing suffix (512 is 512 bytes); a container runs on one node, and the largest the NodePools launch (r7i.48xlarge) has 1,536 GiB',
};
/** One EBS volume (gp3: 1 GiB to 16 TiB). */
export const VOLUME_SIZE: QuantityBounds = { kind: 'bytes', min: '1Gi', max: '16Ti', why: 'an EBS gp3 volume is 1 GiB to 16 TiB' };
/** A namespace quota: what the design's largest namespace needs, with headroom. */
export const QUOTA_CPU: QuantityBounds = {
  kind: 'cpu',
  min: '0',
  max: '10000',
  why: 'at most 10,000 cores: the largest namespace the replica bounds allow (API and web twice at 2,000 pods each) at about 1 core a pod, with headroom',
};
export const QUOTA_MEMORY: QuantityBounds = {
  kind: 'bytes',
  min: '0',
  max: '64Ti',
  why: 'at most 64 TiB: the largest namespace the replica bounds allow (8,000 pods) at 8 GiB a pod',
};
export const QUOTA_STORAGE: QuantityBounds = {
  kind: 'bytes',
  min: '0',
  max: '1024Ti',
  why: 'at most 1 PiB: 64 volumes of the 16 TiB EBS maximum per PVC bound, 1,000 PVCs of 1 TiB',
};

/** A Kubernetes quantity such as `500m`, `2`, `512Mi`, `1.5Gi`, bounded (see QuantityBounds). */
export const Quantity = (description: string, bounds: QuantityBounds) =>
  Type.String({
    pattern: bounds.kind === 'cpu' ? '^[0-9]+(\\.[0-9]+)?m?$' : '^[0-9]+(\\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$',
    maxLength: 32,
    format: bounds.kind === 'cpu' ? 'k8s-cpu' : 'k8s-bytes',
    formatMinimum: bounds.min,
    formatMaximum: bounds.max,
    description: `${description} (Kubernetes ${bounds.kind === 'cpu' ? 'CPU quantity, e.g. 500m, 2' : 'quantity, e.g. 512Mi, 10Gi'}; ${bounds.min} to ${bounds.max}: ${bounds.why})`,
  });

/** HPA bounds: the design runs the API at up to 1,000 pods a region; 2,000 is that with 100 % headroom. */
const MAX_REPLICAS = 2000;
const REPLICAS_WHY =
  "the design's peak is 1,000 API pods a region; 2,000 is that with 100 % headroom, and every pod counts twice against the app quota during a release";
const FRANCHISE_ID_WHY = '1,000 x the designed ID space (1..100,000), well inside 32-bit integers every shard-map reader handles';

/** Slack channel names are at most 80 characters, lower case, digits, - and _. */
const SlackChannel = (description: string) =>
  Type.String({ pattern: '^#[a-z0-9_-]+$', maxLength: 81, description: `${description} (# and a Slack channel name: at most 80 characters of a-z 0-9 - _)` });

/** A count with its bound and where the bound comes from (in the description). */
/** A KMS key ARN or alias ARN (the region part is checked against the region by the invariants). */
const KMS_KEY_ARN_PATTERN =
  '^arn:aws:kms:[a-z]{2}-[a-z]+-[0-9]:[0-9]{12}:(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]+)$';

const Count = (min: number, max: number, description: string, why: string) =>
  Type.Integer({ minimum: min, maximum: max, description: `${description} (${min} to ${max}: ${why})` });

const RedisTier = (description: string) =>
  Type.Object(
    {
      maxmemory: Quantity('Redis maxmemory; must stay below the container memory limit', CONTAINER_MEMORY),
      resources: Type.Object(
        {
          requests: Type.Object({ cpu: Quantity('CPU', CONTAINER_CPU), memory: Quantity('Memory', CONTAINER_MEMORY) }, { additionalProperties: false, description: 'Requested per Redis pod' }),
          limits: Type.Object({ memory: Quantity('Memory limit per Redis pod', CONTAINER_MEMORY) }, { additionalProperties: false, description: 'Limits' }),
        },
        { additionalProperties: false, description: 'Resources of each Redis pod' },
      ),
      storage: Type.Optional(Quantity('Persistent volume per pod (tiers with persistence only)', VOLUME_SIZE)),
      storageClassName: Type.Optional(
        DnsLabel('StorageClass of that volume: one of ours (charts/storage), the Retain class since a persisted tier holds data (set exactly when storage is)'),
      ),
    },
    { additionalProperties: false, description },
  );

const Version = Type.String({
  pattern: '^(?!latest$)[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$',
  maxLength: 63,
  format: 'image-version',
  description:
    'Release version: the image tag and the app.kubernetes.io/version label (e.g. 2.14.3, 3.3-p3; never "latest"); a Kubernetes label value, so at most 63 characters starting and ending with a letter or digit',
});

export const ImageRelease = Strict(
  {
    repository: Type.String({
      pattern: '^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$',
      format: 'image-repository',
      maxLength: 255,
      description: 'Image repository without tag, e.g. ghcr.io/bookedbarber/api (at most 255 characters: the OCI distribution limit of a repository name)',
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

/** A duration in one unit (s, m or h: what Argo Rollouts and Karpenter read), bounded. */
const Duration = (description: string, min: string, max: string, why: string) =>
  Type.String({
    pattern: '^[1-9][0-9]*(s|m|h)$',
    maxLength: 16,
    format: 'duration',
    formatMinimum: min,
    formatMaximum: max,
    description: `${description} (${min} to ${max}: ${why})`,
  });

const Hostname = (description: string) =>
  Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$', maxLength: 253, format: 'hostname', description: `${description} (RFC 1123 host name)` });

/** A VPC's IPv4 CIDR block (regions/formats.ts parseCidr). */
const VpcCidr = (description: string) =>
  Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$', maxLength: 18, format: 'ipv4-cidr', description: `${description} (IPv4 CIDR block, /16 to /28)` });

/** An https URL (RFC 3986, parsed): at most 2048 characters, the limit browsers and most servers share. */
const HttpsUrl = (description: string) =>
  Type.String({ pattern: '^https://\\S+$', maxLength: 2048, format: 'https-url', description: `${description} (https URL, at most 2048 characters)` });

/** An e-mail address; 254 characters is RFC 5321's limit of a forward path. */
const Email = (description: string) =>
  Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254, format: 'email', description: `${description} (e-mail address, at most 254 characters)` });

/** A cloud region id, e.g. us-east-1 (AWS ids are at most 14 characters today; 25 leaves room). */
const RegionName = (description: string) =>
  Type.String({ pattern: '^[a-z]{2}-[a-z]+-[0-9]$', maxLength: 25, description });

/**
 * A path (and query) requested by a release test: printable ASCII (RFC 3986: anything else is
 * percent-encoded), no whitespace, quotes or backslashes (it is rendered into scripts).
 */
const RequestPath = (description: string) => Type.String({ pattern: '^/[!#-&(-\\[\\]-_a-~]*$', maxLength: 512, format: 'request-path', description: `${description} (printable ASCII; percent-encode anything else)` });

/** Text a response must contain: one line, short enough to read in a failure message; no control or invisible characters. */
const Marker = (description: string) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$', description });

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
          contentType: Type.String({ pattern: '^[a-z]+/[a-z0-9.+-]*$', maxLength: 255, description: "Expected media type, or a prefix ending in '/' (image/); at most 255 characters (RFC 6838: type and subtype 127 each)" }),
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
  Strict({ cpu: Quantity('CPU', CONTAINER_CPU), memory: Quantity('Memory', CONTAINER_MEMORY) }, description);

/** What the release gate measures, on Istio's request metrics of the new version only. */
export const AnalysisThresholds = Strict(
  {
    interval: Duration(
      'Time between two measurements',
      '30s',
      '20m',
      'at least the scrape interval, 30s (charts/lib/promql.ts SCRAPE_INTERVAL_SECONDS): measuring more often reads the same samples again; at most 20m, so the longest analysis (count 60 x 20m) ends within a day',
    ),
    count: Type.Integer({ minimum: 1, maximum: 60, description: 'Measurements per analysis run' }),
    failureLimit: Count(
      0,
      59,
      'Failed measurements tolerated; one more aborts the release and shifts traffic back to stable',
      'below the largest count (60), so at least one measurement can fail the release',
    ),
    minSuccessRate: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Lowest share of non-5xx responses, e.g. 0.999 for 99.9 %',
    }),
    maxLatencyP95Ms: Count(1, 60000, '95th percentile request duration ceiling in milliseconds', 'a page or API call slower than a minute is failed, not slow; no gate can pass it meaningfully'),
  },
  'Prometheus analysis thresholds of a release',
);

/** How one of our HTTP services runs: port, probes, size, autoscaling targets, VPA bounds. */
export const ServiceWorkload = Strict(
  {
    port: Type.Integer({ minimum: 1024, maximum: 65535, description: 'Container HTTP port (unprivileged)' }),
    livenessPath: RequestPath('HTTP path of the liveness probe'),
    readinessPath: RequestPath('HTTP path of the readiness probe'),
    resources: Strict(
      {
        requests: CpuMemory('Requested per pod'),
        limits: Strict({ memory: Quantity('Memory limit per pod', CONTAINER_MEMORY) }, 'Limits per pod (no CPU limit: it throttles)'),
      },
      'Container resources',
    ),
    targetCpuUtilization: Type.Integer({ minimum: 10, maximum: 95, description: 'HPA target: average CPU use in % of the request' }),
    targetRequestsPerSecond: Count(1, 10000, 'HPA target: average requests per second per pod', 'above 10,000 requests/s one pod (and its Envoy sidecar) saturates first and the HPA never scales out'),
    vpa: Strict(
      { minAllowed: CpuMemory('Smallest recommendation'), maxAllowed: CpuMemory('Largest recommendation') },
      'Bounds of the VerticalPodAutoscaler recommendation',
    ),
  },
  'Runtime settings of a service',
);

const UsdPrice = (description: string, max: number, why: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: max, description: `${description} (USD; above 0, at most ${max}: ${why})` });

/** One published on-demand instance price: two of them give the price of a vCPU-hour and a GiB-hour. */
const ReferenceInstance = Strict(
  {
    type: Type.String({ pattern: '^[a-z0-9-]+\\.[a-z0-9-]+$', maxLength: 32, description: 'EC2 instance type, e.g. m6i.xlarge (at most 32 characters; the longest EC2 names have about 20)' }),
    vcpu: Count(1, 896, 'Its vCPUs', 'the largest EC2 instance, u7in-32tb.224xlarge, has 896'),
    memoryGiB: Type.Number({ exclusiveMinimum: 0, maximum: 32768, description: 'Its memory in GiB (at most 32,768: the largest EC2 instance has 32 TiB)' }),
    hourly: UsdPrice('Published Linux on-demand price per instance-hour in this region', 1000, 'the most expensive EC2 instance lists at about 400 USD an hour'),
  },
  'A reference instance type and its published hourly price',
);

/** The pinned price table of the cost estimate (tools/cost, docs/cost.md): dated, its sources named. */
export const PricingConfig = Strict(
  {
    date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', description: 'Day the prices were read from the sources (YYYY-MM-DD, a real calendar day)' }),
    sources: Type.Array(HttpsUrl('A page the prices come from'), { minItems: 1, maxItems: 20, description: 'Pages the prices come from (at most 20)' }),
    hoursPerMonth: Type.Number({ minimum: 672, maximum: 744, description: 'Hours in a billed month (AWS uses 730)' }),
    spotDiscountPercent: Type.Number({ minimum: 0, maximum: 95, description: 'Spot price below on-demand, in %, for the spot NodePool. An assumption (Spot prices move every few minutes)' }),
    riskIncreasePercent: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      description: "npm run diff flags a change that raises a region's monthly estimate at max scale by more than this % (at most 100: a change that doubles a region's bill is always flagged)",
    }),
    backups: Strict(
      {
        dataFillRatio: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of a Postgres volume the database fills. An assumption' }),
        compressionRatio: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Compressed / raw size of base backups and WAL (lz4). An assumption' }),
        walPerDayRatio: Type.Number({ minimum: 0, maximum: 10, description: 'WAL written per day / database size. An assumption (at most 10: rewriting the whole database ten times a day is a bulk load, not a booking workload)' }),
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
          blockStorageGbMonth: Type.Record(Type.String({ pattern: '^[a-z0-9]+$', maxLength: 16 }), UsdPrice('Price per GB-month', 1, 'the dearest EBS type (io2) lists at 0.125-0.15 USD'), {
            maxProperties: 10,
            description: 'EBS volume price per GB-month by volume type (the StorageClass parameter `type`), e.g. gp3 (EBS has 7 volume types)',
          }),
          objectStorageGbMonth: UsdPrice('S3 Standard price per GB-month (first 50 TB)', 1, 'S3 Standard lists at 0.02-0.05 USD'),
          loadBalancerHour: UsdPrice('Network Load Balancer price per hour (NLCU usage not included)', 1, 'an NLB lists at 0.02-0.04 USD an hour'),
        },
        'Published prices in one region',
      ),
      { maxProperties: 40, description: 'Prices per region name (at most 40: AWS has 34 regions)' },
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
        first: Count(1, 100_000_000, 'Lowest franchise ID', FRANCHISE_ID_WHY),
        last: Count(1, 100_000_000, 'Highest franchise ID', FRANCHISE_ID_WHY),
      },
      'The franchise ID space the shards must cover with no gap and no overlap',
    ),
    git: Strict(
      {
        repoURL: Type.String({ pattern: '^(https://|ssh://|git@)[!-~]+$', maxLength: 2048, description: 'Repository Argo CD syncs dist/ from (https://, ssh:// or git@host:path; printable ASCII, at most 2048 characters)' }),
        targetRevision: Type.String({
          pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$',
          maxLength: 255,
          format: 'git-ref',
          description: 'Branch or tag Argo CD tracks (a git ref name; at most 255 characters, the file-name limit git stores refs under)',
        }),
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
            canarySteps: Type.Array(Type.Integer({ minimum: 1, maximum: 99, description: 'Traffic weight in % (1 to 99: 100 is the promotion)' }), {
              minItems: 1,
              maxItems: 10,
              description: 'Traffic weights (%) of the canary, each followed by an analysis; 100 comes last on its own (at most 10 steps: each holds traffic for a whole analysis)',
            }),
            analysis: AnalysisThresholds,
            loadTest: Strict(
              {
                requestsPerSecond: Count(
                  1,
                  10000,
                  'Constant arrival rate (requests per second) the k6 Job sends to the canary Service alone',
                  'the Job is one k6 pod with 500m CPU requested (charts/api/load-test.ts); k6 drives a few thousand requests per second per core',
                ),
                duration: Duration(
                  'How long the load test runs',
                  '30s',
                  '30m',
                  'at least 30s, enough samples for a p95; at most 30m: the canary waits for it before going past 50 %',
                ),
                paths: Type.Array(RequestPath('Path of a GET request (read-only: a load test never books)'), {
                  minItems: 1,
                  maxItems: 50,
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
            scaleDownDelaySeconds: Count(
              30,
              86400,
              'How long the old stack keeps running after promotion, for an instant rollback',
              "at least Argo Rollouts' default 30s, so the old stack outlives the switch of the Service; at most a day: the old stack holds a second web fleet's quota while it waits",
            ),
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
        consolidateAfter: Duration(
          'How long an API or web node must stay underutilized or empty before Karpenter consolidates it',
          '30s',
          '24h',
          'at least 30s (two HPA sync periods of 15s), so nodes of a burst are not removed between two scale-ups; at most a day, after which consolidation never happens in practice',
        ),
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
            limits: Strict({ memory: Quantity('Memory limit of each istio-proxy sidecar', CONTAINER_MEMORY) }, 'Sidecar limits'),
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
            replicas: Count(1, 4, 'Prometheus replicas per region (identical, for HA)', 'each replica scrapes every target and holds a full TSDB volume; past 2 (HA) only cost grows'),
            retention: Type.String({
              pattern: '^[1-9][0-9]*(h|d|w)$',
              maxLength: 16,
              format: 'prometheus-duration',
              formatMinimum: '2h',
              formatMaximum: '400d',
              description:
                "How long samples are kept locally (e.g. 15d; 2h to 400d: Prometheus cuts 2-hour blocks, so less keeps nothing; more than about a year belongs in the remote store, and the TSDB volume grows with it)",
            }),
            storage: Strict(
              {
                className: DnsLabel('StorageClass of the TSDB volume (and of Alertmanager\'s): one of ours (charts/storage)'),
                size: Quantity('TSDB volume size', VOLUME_SIZE),
              },
              'Prometheus storage',
            ),
            resources: Strict(
              { requests: CpuMemory('Requested per Prometheus pod'), limits: Strict({ memory: Quantity('Memory limit per Prometheus pod', CONTAINER_MEMORY) }, 'Limits') },
              'Resources of each Prometheus pod',
            ),
            remoteWriteUrl: Type.Optional(HttpsUrl('Optional global store every region also writes to')),
          },
          'Prometheus of each region (prometheus-operator)',
        ),
        alertmanager: Strict(
          {
            replicas: Count(1, 5, 'Alertmanager replicas per region (gossip cluster)', 'every replica gossips with every other; 3 survive a zone, 5 survive two'),
            slackChannel: SlackChannel('Slack channel for warnings and criticals'),
            businessSlackChannel: SlackChannel('Slack channel for business alerts'),
            businessEmail: Email('Mailbox for business alerts'),
            emailFrom: Email('Sender address of alert mail'),
            smarthost: Type.String({ pattern: '^[a-z0-9.-]+:[0-9]+$', maxLength: 259, format: 'host-port', description: 'SMTP relay host:port (an RFC 1123 host name, a TCP port 1-65535)' }),
          },
          'Alertmanager routing; every key and webhook URL comes from the secret store',
        ),
        slo: Strict(
          {
            availability: Type.Number({ exclusiveMinimum: 0.9, exclusiveMaximum: 1, description: 'Availability objective, e.g. 0.9999' }),
            latencyP95Ms: Count(1, 60000, 'p95 request latency objective (ms)', 'a request slower than a minute is failed, not slow'),
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
                size: Quantity('Volume size (badger) or index size hint (elasticsearch)', VOLUME_SIZE),
                className: DnsLabel('StorageClass (badger): one of ours (charts/storage)'),
                elasticsearch: Type.Optional(
                  Strict(
                    {
                      urlTemplate: Type.String({
                        pattern: '^https?://[!-.0-~]*\\{region\\}[!-.0-~]*(:[0-9]+)?/?$',
                        maxLength: 2048,
                        format: 'region-url-template',
                        description:
                          'URL of the region\'s own Elasticsearch/OpenSearch cluster, {region} replaced by the region name (each region stores its traces in its own cluster: residency, no cross-region dependency)',
                      }),
                      numShards: Type.Integer({ minimum: 1, maximum: 100, description: 'Primary shards of each daily span index (Jaeger --es.num-shards)' }),
                      numReplicas: Type.Integer({
                        minimum: 1,
                        maximum: 5,
                        description: 'Replica copies of each shard (Jaeger --es.num-replicas); at least 1, so no single data node holds the only copy of a trace',
                      }),
                      jaegerReplicas: Count(2, 20, 'Stateless Jaeger pods writing to and querying the cluster (spread over zones, PDB)', 'at least 2 for the PDB; the OpenTelemetry gateways, not Jaeger, absorb the load, so 20 is far above any need'),
                    },
                    'The external cluster (storage.type elasticsearch): provisioned outside this repository, multi-zone',
                  ),
                ),
              },
              'Where Jaeger keeps spans',
            ),
            retention: Type.String({
              pattern: '^[1-9][0-9]*h$',
              maxLength: 8,
              format: 'hours',
              formatMinimum: '24h',
              formatMaximum: '2160h',
              description:
                'How long spans are kept, in hours (e.g. 72h; 24h to 2160h: Jaeger writes daily indices, so less than a day keeps one anyway; more than 90 days of traces is what metrics and logs are for)',
            }),
          },
          'Jaeger',
        ),
        slowTraceMs: Count(
          1,
          60000,
          'Tail sampling keeps every trace slower than this',
          "the sampler waits 2 x this for a trace's spans (charts/tracing/collector.ts decisionWaitSeconds) and holds them in memory meanwhile; a minute is the longest request the routes allow",
        ),
        baselineSamplingPercent: Type.Number({ minimum: 0, maximum: 100, description: 'Share of ordinary (fast, successful) traces kept' }),
      },
      'Tracing: OpenTelemetry collector with tail sampling, exporting to Jaeger',
    ),
    secretStore: Strict(
      {
        kind: Type.Literal('ClusterSecretStore', {
          description: 'Kind of the External Secrets store every credential is read from: one ClusterSecretStore per cluster, rendered here, serves the ExternalSecrets of every namespace',
        }),
        name: DnsLabel('Name of that store (a ClusterSecretStore rendered into every region, dist/<region>/secret-store.yaml)'),
        vault: Strict(
          {
            server: HttpsUrl('Address of the HashiCorp Vault every region reads credentials from, e.g. https://vault.bookedbarber.internal:8200'),
            kvMount: DnsLabel('Path of the KV version 2 secrets engine holding the credentials (e.g. secret): the remote keys (bookedbarber/...) are read under it'),
            role: DnsLabel('Vault role of the Kubernetes auth method that External Secrets logs in as (bound to its ServiceAccount external-secrets/external-secrets)'),
            caCertificate: Type.Optional(
              Type.String({
                pattern: '^-----BEGIN CERTIFICATE-----\\n[A-Za-z0-9+/=\\n]+\\n-----END CERTIFICATE-----\\n?$',
                maxLength: 20000,
                format: 'pem-certificate',
                description: 'PEM certificate of the CA that signed Vault\'s TLS certificate, when that is a private CA (External Secrets otherwise checks it against the public roots of its image): a literal block (caCertificate: |) holding one BEGIN/END CERTIFICATE block',
              }),
            ),
          },
          'The Vault behind the store. External Secrets logs in with its own ServiceAccount token through a Kubernetes auth method mounted per cluster at kubernetes-<cluster.name> (each cluster has its own token issuer)',
        ),
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
          { requests: CpuMemory('Requested per Postgres pod'), limits: Strict({ memory: Quantity('Memory limit per Postgres pod', CONTAINER_MEMORY) }, 'Limits') },
          'Resources of each Postgres pod; max_connections and memory settings derive from them',
        ),
        reservedConnections: Count(
          3,
          100,
          'Connections kept for superusers, replication and the failover manager, never given to PgBouncer',
          'superuser, Patroni and one per streaming replica (read replicas at most 15, DR members at most 16) fit in 100 with room',
        ),
        rpoSeconds: Count(1, 3600, 'Recovery point objective: most data (seconds) a disaster may lose', 'beyond an hour of lost bookings the WAL archive, not streaming, is the plan; a booking platform states a tighter RPO'),
        rtoSeconds: Count(30, 14400, 'Recovery time objective: longest outage of a shard primary', 'at least 30s (a Patroni failover); at most 4 hours, the longest a regional promotion by runbook may take'),
        archiveTimeoutSeconds: Count(
          1,
          3600,
          'archive_timeout: a WAL segment is archived at least this often',
          'must fit within rpoSeconds (at most 3600); every forced switch archives a whole 16 MB segment',
        ),
        baseBackupSchedule: Type.String({
          pattern: '^(\\S+ ){4}\\S+$',
          maxLength: 100,
          format: 'cron',
          description: 'Cron schedule (UTC) of the base backup: 5 fields, numbers, *, ranges, steps and lists (what the backup sidecar evaluates, charts/postgres/backup.ts)',
        }),
        retainFullBackups: Count(1, 90, 'Base backups (with their WAL) kept for point-in-time recovery', 'a daily schedule keeps 90 days of point-in-time recovery; the archive (and its cost estimate) grows with every one'),
        baseBackupMaxAgeHours: Type.Integer({
          minimum: 1,
          maximum: 24 * 35,
          description: 'Page when a site\'s newest base backup is older than this: the schedule\'s longest gap plus the time a backup may take (6 h) plus a margin',
        }),
        apiPoolPerPod: Count(
          2,
          50,
          "Database connections each API pod opens to each shard (every region's API reaches every shard), split over the shard's read-write and read-only endpoints, at least one each (the shard map tells the API each pool's size)",
          "2,000 API pods x 4 regions x 50 is 400,000 clients per shard, beyond what PgBouncer's client capacity can hold",
        ),
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
          { requests: CpuMemory('Requested per PgBouncer pod'), limits: Strict({ memory: Quantity('Memory limit per PgBouncer pod', CONTAINER_MEMORY) }, 'Limits') },
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
            cache: Count(1, 604800, 'Cache entries', 'at most a week: a cached page or lookup older than that is stale data, and allkeys-lru evicts it before anyway'),
            sessions: Count(60, 2592000, 'User sessions', 'at least a minute, or a booking flow outlives its session; at most 30 days, the longest a login may stay valid'),
            rateLimit: Count(1, 86400, 'Rate-limit windows', 'at most a day: a longer window is a ban, not a rate limit'),
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
      minReplicas: Count(1, MAX_REPLICAS, 'HPA minimum pods', REPLICAS_WHY),
      maxReplicas: Count(1, MAX_REPLICAS, 'HPA maximum pods', REPLICAS_WHY),
    },
    description,
  );

/**
 * The ResourceQuota key each `namespaces.<role>.quota` field becomes (charts/namespaces), in one
 * place: the chart writes the quota from it and the validator's quota findings name the field
 * to raise from it.
 */
export const QUOTA_HARD_KEYS = {
  requestsCpu: 'requests.cpu',
  requestsMemory: 'requests.memory',
  limitsMemory: 'limits.memory',
  pods: 'pods',
  persistentVolumeClaims: 'persistentvolumeclaims',
  requestsStorage: 'requests.storage',
} as const;

const NamespaceSizing = (description: string) =>
  Strict(
    {
      quota: Strict(
        {
          requestsCpu: Quantity('Sum of CPU requests of all pods', QUOTA_CPU),
          requestsMemory: Quantity('Sum of memory requests of all pods', QUOTA_MEMORY),
          limitsMemory: Quantity('Sum of memory limits of all pods', QUOTA_MEMORY),
          pods: Count(
            1,
            10000,
            'Maximum number of pods',
            'the largest namespace the replica bounds allow: API and web twice (canary, blue-green) at 2,000 each is 8,000, plus Jobs; Kubernetes supports 150,000 pods per cluster',
          ),
          persistentVolumeClaims: Count(0, 1000, 'Maximum number of PVCs', 'every Postgres member, Redis and Prometheus volume of a region is well under 100; 1,000 EBS volumes is a cluster-wide scale'),
          requestsStorage: Quantity('Sum of storage requested by PVCs', QUOTA_STORAGE),
        },
        'ResourceQuota of the namespace',
      ),
      containerDefaults: Strict(
        {
          requestCpu: Quantity('CPU request given to a container that sets none', CONTAINER_CPU),
          requestMemory: Quantity('Memory request given to a container that sets none', CONTAINER_MEMORY),
          limitMemory: Quantity('Memory limit given to a container that sets none', CONTAINER_MEMORY),
          maxCpu: Quantity('Largest CPU limit/request one container may have', CONTAINER_CPU),
          maxMemory: Quantity('Largest memory limit one container may have', CONTAINER_MEMORY),
        },
        'LimitRange of the namespace',
      ),
    },
    description,
  );

export const Shard = Strict(
  {
    id: Count(1, 999, 'Shard number, unique across regions', 'it is part of object names (bookedbarber-postgres-<id>) and of the shard map; 999 shards of the 100,000-franchise space is 100 franchises each'),
    residency: Residency,
    franchises: Strict(
      {
        first: Count(1, 100_000_000, 'First franchise ID of the shard (inclusive)', FRANCHISE_ID_WHY),
        last: Count(1, 100_000_000, 'Last franchise ID of the shard (inclusive)', FRANCHISE_ID_WHY),
      },
      'Franchise ID range homed on this shard',
    ),
    readReplicas: Count(
      2,
      15,
      'Streaming read replicas, spread over zones with the primary; the read-only Service and PgBouncer\'s read pool route to them',
      'with fewer, losing one zone (or promoting the only replica) leaves the read-only Service without an endpoint, and every read fails until a zonal volume comes back',
    ),
    storage: Strict(
      {
        className: DnsLabel('StorageClass of the data volumes: one of ours (charts/storage), the Retain class (<platform>-gp3-retain)'),
        size: Quantity('Size of each data volume', VOLUME_SIZE),
      },
      'Persistent storage of each Postgres instance',
    ),
    pgbouncer: Strict(
      {
        replicas: Count(
          2,
          100,
          'PgBouncer pods of the shard, spread over zones (at least 2)',
          "at least 2 for a zone outage; the shard's server connections are split over the pods plus one (regions/capacity.ts), at least 10 each: 101 x 10 is more server connections than one Postgres primary serves well",
        ),
        maxClientConnectionsPerReplica: Count(
          100,
          50000,
          "max_client_conn of each PgBouncer pod; replicas x this is the shard's client capacity",
          'PgBouncer is one process: every client is a socket and a file descriptor, and tens of thousands is where one event loop stops keeping up',
        ),
      },
      'Connection pooler in front of the shard (transaction pooling)',
    ),
    disasterRecovery: Strict(
      {
        region: Type.String({
          pattern: '^[a-z]{2}-[a-z]+-[0-9]$',
          maxLength: 25,
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
        maxLength: 25,
        description: 'Region whose site takes writes: the home region (the default) or disasterRecovery.region. Setting it to the DR region is the promotion: every shard map points there, the DR site leaves standby mode and the home site follows it',
      }),
    ),
  },
  'A Postgres shard homed in this region',
);

export const RegionConfig = Strict(
  {
    name: RegionName('Cloud region id, e.g. us-east-1; must match the file name'),
    provider: Type.Union([Type.Literal('aws'), Type.Literal('gcp'), Type.Literal('azure')], {
      description: 'Cloud provider (OpenTelemetry cloud.provider)',
    }),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary'), Type.Literal('standby')], {
      description: 'primary: serves users and owns the session data set (exactly one); secondary: serves users; standby: a standby-only region that hosts DR sites of shards homed elsewhere in its residency and serves no users (no autoscaling, dns or namespaces.app)',
    }),
    residency: Residency,
    zones: Type.Array(DnsLabel('Availability zone, e.g. us-east-1a'), {
      minItems: 2,
      maxItems: 6,
      uniqueItems: true,
      description: 'Availability zones workloads spread across (topology.kubernetes.io/zone values; 2 to 6: us-east-1, the largest AWS region, has 6)',
    }),
    rolloutWave: Count(1, 128, 'Order in which Argo CD rolls a release out; unique per region, wave 1 goes first', 'one wave per region; room for twice the 64 regions (clusters) the platform is sized and benchmarked for, while a typo like 1000 still fails'),
    eastWestGateway: Hostname(
      'Address other regions reach this region\'s Istio east-west gateway at (mTLS on 15443), for cross-region shard traffic',
    ),
    vpcCidrs: Type.Array(VpcCidr('A CIDR block of the region\'s VPC'), {
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      description: 'The CIDR blocks of the region\'s VPC its pods send from (the primary block, and a secondary one if pods get addresses from it): every other region\'s east-west gateway load balancer admits only these (loadBalancerSourceRanges; without them, depending on the AWS Load Balancer Controller\'s version, its security group admits any routable address, or only the load balancer\'s own VPC, where no caller of it is). No two regions may overlap: peered VPCs and transit gateway routes need distinct blocks. At most 50, the AWS quota of blocks per VPC (5 by default)',
    }),
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
          maxLength: 2048,
          description: 'IAM role (IRSA) external-dns assumes in this region: route53:ChangeResourceRecordSets on the zone, route53:ListHostedZones and ListResourceRecordSets',
        }),
      },
      'This region in public DNS (Route 53 latency record per host, set identifier = region name); serving regions only',
    )),
    cluster: Strict(
      {
        name: DnsLabel('Cluster name as registered in Argo CD'),
        server: HttpsUrl('Kubernetes API URL Argo CD deploys to'),
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
    shards: Type.Array(Shard, { maxItems: 100, description: 'Postgres shards homed in this region (none in a standby region; at most 100 per region)' }),
    storage: Strict(
      {
        kmsKeyArn: Type.String({
          pattern: KMS_KEY_ARN_PATTERN,
          maxLength: 2048,
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
          maxLength: 1100,
          format: 'bucket-url',
          description: 'Object-storage bucket (in this region, for residency) holding WAL archives and base backups',
        }),
        kmsKeyArn: Type.Optional(
          Type.String({
            pattern: KMS_KEY_ARN_PATTERN,
            maxLength: 2048,
            description:
              "KMS key (in this region) WAL-G encrypts every WAL segment and base backup with (SSE-KMS: WALG_S3_SSE=aws:kms, WALG_S3_SSE_KMS_ID); s3:// buckets only. Without it the bucket's default encryption applies. Grant first, then set it: the Postgres pods' identity needs kms:GenerateDataKey and kms:Decrypt on it (or every upload fails once a member restarts), and the shard's DR site (which reads this bucket) kms:Decrypt",
          }),
        ),
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
