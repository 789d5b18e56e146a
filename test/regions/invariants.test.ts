/**
 * One test per invariant: a shipped config changed in one place must fail with a message that
 * names the file, the field path, what was found and the fix. Guards issue #2 item 3.
 */
import { describe, expect, it } from 'vitest';
import { formatPath, type ConfigIssue } from '../../regions/config-error';
import { loadModel } from '../../regions/load';
import { issuesFor, REGIONS_DIR, type RegionFiles } from '../support/regions';

function only(issues: ConfigIssue[]): ConfigIssue {
  expect(issues.map((i) => `${i.file.split('/').pop()} ${formatPath(i.path)}: ${i.expected}`)).toHaveLength(1);
  return issues[0];
}

describe('region invariants', () => {
  it('the shipped regions satisfy every invariant', () => {
    const model = loadModel(REGIONS_DIR);
    expect(model.regions.map((r) => r.config.name)).toEqual(['ap-southeast-1', 'ap-southeast-2', 'eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2']);
    expect(model.regions.map((r) => `${r.config.name} ${r.config.role}`)).toEqual([
      'ap-southeast-1 secondary', 'ap-southeast-2 standby', 'eu-central-1 standby', 'eu-west-1 secondary', 'us-east-1 primary', 'us-west-2 secondary',
    ]);
  });

  it('overlapping shard ranges fail, naming both shards and the fix', () => {
    const issue = only(issuesFor((f) => (f['us-east-1.yaml'].shards[0].franchises.last = 25_010)));
    expect(issue.file).toMatch(/us-west-2\.yaml$/);
    expect(formatPath(issue.path)).toBe('shards[0].franchises.first');
    expect(issue.found).toBe('25001');
    expect(issue.expected).toContain('25001..25010 are already on shard 1');
    expect(issue.fix).toContain('set this first to 25011');
  });

  it('a gap between shard ranges fails', () => {
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].shards[0].franchises.first = 25_101)));
    expect(formatPath(issue.path)).toBe('shards[0].franchises.first');
    expect(issue.expected).toContain('25001..25100 belong to no shard');
  });

  it('ranges that stop short of the franchise space fail', () => {
    const issue = only(issuesFor((f) => (f['ap-southeast-1.yaml'].shards[0].franchises.last = 99_000)));
    expect(issue.file).toMatch(/ap-southeast-1\.yaml$/);
    expect(issue.expected).toContain('99001..100000 belong to no shard');
  });

  it('a range outside the franchise space fails', () => {
    const issue = only(issuesFor((f) => (f['ap-southeast-1.yaml'].shards[0].franchises.last = 100_001)));
    expect(issue.expected).toContain('inside the franchise ID space 1..100000');
  });

  it('a shard whose residency differs from its region fails once, with the typo\'s fix first (its DR site is not judged by the wrong residency)', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].shards[0].residency = 'us')));
    expect(formatPath(issue.path)).toBe('shards[0].residency');
    expect(issue.expected).toContain('"eu"');
    expect(issue.fix).toBe('set shards[0].residency to "eu"; if the shard\'s data must live in "us", home shard 3 in a region of that residency instead');
  });

  it('duplicate shard ids fail, naming the other shard\'s line and which of the two to change', () => {
    // The files cannot say which of the two is the slip: the problem points at one and names the
    // other's line, and its fix never tells the reader to renumber a shard that holds data.
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].shards[0].id = 1)));
    expect(formatPath(issue.path)).toBe('shards[0].id');
    expect(issue.expected).toMatch(/^a shard id no other shard uses \(\S+\/(us-east-1|us-west-2)\.yaml:\d+ has id 1 too\)$/);
    expect(issue.fix).toMatch(/^give the shard you added or copied an unused id, e\.g\. 2; a shard that already holds data keeps its id/);
  });

  it('a shard whose whole range another shard holds (a copied shard) is told to take a range of its own, not a first past its last', () => {
    const issues = issuesFor((f) => (f['us-west-2.yaml'].shards[0].franchises = { ...f['us-east-1.yaml'].shards[0].franchises }));
    // (us-west-2's own old range is then on no shard: a problem of its own.)
    const issue = only(issues.filter((i) => i.file.endsWith('us-west-2.yaml')));
    expect(formatPath(issue.path)).toBe('shards[0].franchises.first');
    expect(issue.fix).toMatch(/^give shard \d a range no other shard holds \(all of 1\.\.25000 is already on shard \d/);
  });

  it('a franchise range left without a shard suggests extending a neighbour only where the residency allows', () => {
    const issue = only(issuesFor((f) => (f['ap-southeast-1.yaml'].shards[0].franchises.last = 99_000)));
    expect(issue.fix).toBe(
      `add a shard for 99001..100000 in a region of those franchises' residency, or extend shard 4 (${issue.file} shards[0]) (residency "apac") to end at 100000 if their data may live there`,
    );
  });

  it('autoscaling min above max fails, naming both values', () => {
    const issue = only(issuesFor((f) => (f['us-east-1.yaml'].autoscaling.api.minReplicas = 1200)));
    expect(formatPath(issue.path)).toBe('autoscaling.api.minReplicas');
    expect(issue.found).toBe('1200');
    expect(issue.expected).toBe('<= maxReplicas (1000)');
  });

  it('duplicate region names fail (and a name must match its file)', () => {
    const issues = issuesFor((f) => (f['us-west-2.yaml'].name = 'us-east-1'));
    expect(issues.some((i) => i.expected.includes('not used by'))).toBe(true);
    // Two files with one name are one problem (regions/load.ts): the fix is the copy's own name.
    expect(issues.some((i) => i.fix?.includes('set its name to "us-west-2"'))).toBe(true);
  });

  it('a typo in a region\'s name is the only problem reported: nothing judges the file as that other region', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].name = 'eu-west-2')));
    expect(formatPath(issue.path)).toBe('name');
    expect(issue.expected).toBe('the file name without .yaml ("eu-west-1")');
  });

  it('a copied region\'s east-west gateway and external-dns role that name the region it was copied from fail, with its own address', () => {
    const issues = issuesFor((f) => {
      f['us-east-1.yaml'].eastWestGateway = 'eastwest.us-west-2.bookedbarber.internal';
      f['us-east-1.yaml'].dns.externalDnsRoleArn = 'arn:aws:iam::123456789012:role/bookedbarber-external-dns-us-west-2';
    });
    expect(issues.map((i) => `${i.file.split('/').pop()} ${formatPath(i.path)}`).sort()).toEqual(['us-east-1.yaml dns.externalDnsRoleArn', 'us-east-1.yaml eastWestGateway']);
    expect(issues.find((i) => formatPath(i.path) === 'eastWestGateway')!.fix).toBe('set it to us-east-1\'s gateway address, e.g. eastwest.us-east-1.bookedbarber.internal');
  });

  it('two regions with one east-west gateway fail, naming the other file', () => {
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].eastWestGateway = f['us-east-1.yaml'].eastWestGateway = 'eastwest.shared.bookedbarber.internal')));
    expect(formatPath(issue.path)).toBe('eastWestGateway');
    expect(issue.expected).toBe('a gateway of its own (regions/us-east-1.yaml has the same address)');
  });

  it('duplicate rollout waves fail', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].rolloutWave = 1)));
    expect(formatPath(issue.path)).toBe('rolloutWave');
    // The first wave after the last one in use (eu-central-1 5, ap-southeast-2 6), offered for
    // whichever region was added or edited: the other one's line is named.
    expect(issue.expected).toMatch(/^a wave no other region uses \((us-east-1|eu-west-1) at \S+\.yaml:\d+ is in wave 1 too\)$/);
    expect(issue.fix).toBe('give the region you added or edited a free wave, e.g. 7 (released last); a region already serving keeps its wave and its rollout/wave-N branch');
  });

  it('a VPC block overlapping another region\'s fails, naming the other file and line', () => {
    // A copied region file keeps the block of the region it was copied from, or a wider one covers it.
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].vpcCidrs = ['10.10.128.0/17'])));
    expect(issue.file).toMatch(/us-west-2\.yaml$/);
    expect(formatPath(issue.path)).toBe('vpcCidrs[0]');
    expect(issue.found).toBe('10.10.128.0/17');
    expect(issue.expected).toMatch(/^a block that overlaps no other VPC block \(10\.10\.0\.0\/16 of us-east-1 at \S+us-east-1\.yaml:\d+ overlaps it\)$/);
    expect(issue.fix).toContain('disjoint blocks');
  });

  it('two overlapping blocks of one region fail; adjacent blocks pass', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].vpcCidrs = ['10.30.0.0/16', '10.30.64.0/18'])));
    expect(formatPath(issue.path)).toBe('vpcCidrs[1]');
    expect(issue.expected).toContain('10.30.0.0/16 of this region');
    expect(issuesFor((f) => (f['eu-west-1.yaml'].vpcCidrs = ['10.30.0.0/16', '10.31.0.0/16']))).toEqual([]);
  });

  it('duplicate cluster destinations fail', () => {
    const issues = issuesFor((f) => (f['eu-west-1.yaml'].cluster = { ...f['us-east-1.yaml'].cluster }));
    expect(issues.map((i) => formatPath(i.path))).toEqual(['cluster.name', 'cluster.server']);
  });

  it('two primary regions fail', () => {
    const issues = issuesFor((f) => (f['eu-west-1.yaml'].role = 'primary'));
    expect(issues.map((i) => i.expected)).toEqual([
      'exactly one primary region; also primary: us-east-1',
      'exactly one primary region; also primary: eu-west-1',
    ]);
  });

  it('a zone of another region fails', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].zones[2] = 'us-east-1c')));
    expect(formatPath(issue.path)).toBe('zones[2]');
  });

  it('LimitRange defaults above their own maximum fail', () => {
    const issue = only(issuesFor((f) => (f['us-east-1.yaml'].namespaces.data.containerDefaults.limitMemory = '128Gi')));
    expect(formatPath(issue.path)).toBe('namespaces.data.containerDefaults.limitMemory');
    expect(issue.expected).toBe('<= containerDefaults.maxMemory (64Gi)');
  });

  it('an app quota too small for the autoscalers at peak fails, saying by how much', () => {
    // Instant abort (the default): 1000 stable + 1000 canary API pods + 2 x 200 web + 2 gate Jobs = 2402.
    const issue = only(issuesFor((f) => (f['us-east-1.yaml'].namespaces.app.quota.pods = 2300)));
    expect(formatPath(issue.path)).toBe('namespaces.app.quota.pods');
    expect(issue.expected).toBe(
      '>= 2402 = autoscaling.api.maxReplicas (1000) API pods + a 100 % canary beside a full stable side (delivery.api.abortScaling: instant keeps stable at full size for an instant abort; dynamic would need only the largest weight step) + 2 x autoscaling.web.maxReplicas (200) web pods (blue-green runs two stacks) + the 2 release-gate Jobs (load test, smoke tests), each with its sidecar',
    );
    expect(issue.fix).toBe('raise namespaces.app.quota.pods by 102 or lower the maxima');
  });

  it('an empty franchise space fails', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].franchiseIds = { first: 10, last: 5 })));
    expect(issue.file).toMatch(/global\.yaml$/);
  });

  it('an app quota whose CPU cannot hold the peak (sidecars included) fails with the number needed', () => {
    // 2000 API pods x (500m + 100m sidecar) + 400 web pods x (200m + 100m sidecar) = 1200 + 120,
    // + the gate Jobs: k6 (500m + 100m) and the smoke suite (100m + 100m) = 1320.8 -> 1321.
    const issue = only(issuesFor((f) => (f['us-east-1.yaml'].namespaces.app.quota.requestsCpu = '1300')));
    expect(formatPath(issue.path)).toBe('namespaces.app.quota.requestsCpu');
    expect(issue.expected).toMatch(/^>= 1321 for autoscaling\.api\.maxReplicas \(1000\) API pods \+ a 100 % canary beside a full stable side \(delivery\.api\.abortScaling: instant/);
    expect(issue.fix).toBe('set namespaces.app.quota.requestsCpu to at least 1321');
  });

  it('an app quota need past the field\'s maximum points at the per-pod sizes, not at a quota the schema refuses', () => {
    // 2000 API pods x (8 + 0.1 sidecar) alone is 16,200 cores: no requestsCpu up to 10000 holds it.
    const issues = issuesFor((f) => (f['global.yaml'].workloads.api.resources.requests.cpu = '8'));
    const issue = issues.find((i) => i.file.endsWith('us-east-1.yaml') && formatPath(i.path) === 'namespaces.app.quota.requestsCpu')!;
    expect(issue.fix).toBe('this is past the field\'s maximum 10000: lower the per-pod requests of workloads.api/web or mesh.sidecar in regions/global.yaml, or the autoscaling maxima');
  });

  it('fewer minimum replicas than zones fails', () => {
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].autoscaling.web.minReplicas = 2)));
    expect(formatPath(issue.path)).toBe('autoscaling.web.minReplicas');
    expect(issue.expected).toContain('>= 3, the number of zones');
  });

  it('canary weights that do not increase fail', () => {
    const issues = issuesFor((f) => (f['global.yaml'].delivery.api.canarySteps = [50, 10]));
    const issue = only(issues.filter((i) => formatPath(i.path).startsWith('delivery')));
    expect(formatPath(issue.path)).toBe('delivery.api.canarySteps[1]');
    expect(issue.expected).toBe('> 50 (weights must increase)');
  });

  it('a workload request outside its VPA bounds fails', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].workloads.api.vpa.maxAllowed.cpu = '400m')));
    expect(formatPath(issue.path)).toBe('workloads.api.resources.requests.cpu');
    expect(issue.expected).toBe('within the VPA bounds 250m..400m');
  });

  it('a workload limit above the namespace LimitRange maximum fails in every region', () => {
    const issues = issuesFor((f) => {
      f['global.yaml'].workloads.web.resources.limits.memory = '16Gi';
      f['global.yaml'].workloads.web.vpa.maxAllowed.memory = '16Gi';
    });
    const maxMemory = issues.filter((i) => formatPath(i.path) === 'namespaces.app.containerDefaults.maxMemory');
    expect(maxMemory.map((i) => i.file.split('/').pop())).toEqual(['ap-southeast-1.yaml', 'eu-west-1.yaml', 'us-east-1.yaml', 'us-west-2.yaml']);
  });

  // Issue 12 item 2: every serving region's API reaches every shard, so a shard's PgBouncer counts
  // them all (at the HPA maximum plus the canary beside it: 100 % with instant abort, the largest
  // weight step with delivery.api.abortScaling: dynamic), one zone outage or drain down.
  const pgbouncerIssues = (issues: ConfigIssue[]) => issues.filter((i) => formatPath(i.path).startsWith('shards[0].pgbouncer.'));

  it('a PgBouncer too small for every region\'s API pools fails, with the numbers and the field to change', () => {
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].shards[0].pgbouncer.maxClientConnectionsPerReplica = 7000)));
    expect(issue.file).toMatch(/us-west-2\.yaml$/);
    expect(formatPath(issue.path)).toBe('shards[0].pgbouncer.maxClientConnectionsPerReplica');
    // Each pod's exporter holds one of its clients (PgBouncer counts console connections too).
    expect(issue.found).toBe('(7000 - 1 for the exporter) x (3 replicas - 1 a zone outage or drain may take) = 13998');
    // 4 regions x (1000 + 1000 canary) API pods x 2 = 16000, + 5 % = 16800.
    expect(issue.expected).toBe(
      ">= 16800 client connections to shard 2: every serving region's API reaches it, ap-southeast-1 2000 + eu-west-1 2000 + us-east-1 2000 + us-west-2 2000 = 8000 API pods (autoscaling.api.maxReplicas + a 100 % canary beside a full stable side (delivery.api.abortScaling: instant keeps stable at full size for an instant abort; dynamic would need only the largest weight step)) x postgres.apiPoolPerPod (2) = 16000, + 5 % for uneven spread = 16800, and at least 2000 per shard",
    );
    // 16800 / 2 pods left + the exporter's one.
    expect(issue.fix).toBe('short by 2802: set shards[0].pgbouncer.maxClientConnectionsPerReplica to 8401, add PgBouncer replicas, or lower postgres.apiPoolPerPod');
  });

  it('the 2,000-client floor per shard still holds on its own', () => {
    const issues = issuesFor((f) => {
      for (const name of ['us-east-1.yaml', 'us-west-2.yaml', 'eu-west-1.yaml', 'ap-southeast-1.yaml']) {
        f[name].autoscaling.api.minReplicas = 3;
        f[name].autoscaling.api.maxReplicas = 10;
      }
      f['us-east-1.yaml'].shards[0].pgbouncer.maxClientConnectionsPerReplica = 900;
    });
    const issue = only(pgbouncerIssues(issues));
    expect(issue.found).toBe('(900 - 1 for the exporter) x (3 replicas - 1 a zone outage or drain may take) = 1798');
    // 4 x (10 + 10 canary) = 80 API pods x 2 = 160 clients (168 with the margin), below the 2,000 floor.
    expect(issue.expected).toMatch(/^>= 2000 client connections to shard 1: .* = 80 API pods .* = 160, \+ 5 % for uneven spread = 168, and at least 2000 per shard$/);
    expect(issue.fix).toContain('short by 202: set shards[0].pgbouncer.maxClientConnectionsPerReplica to 1001');
  });

  it('a larger API pool per pod fails every shard, each counting all four regions', () => {
    const issues = issuesFor((f) => (f['global.yaml'].postgres.apiPoolPerPod = 4));
    expect(issues.map((i) => i.file.split('/').pop())).toEqual(['ap-southeast-1.yaml', 'eu-west-1.yaml', 'us-east-1.yaml', 'us-west-2.yaml']);
    // 8000 API pods x 4 = 32000, + 5 % = 33600 > 2 x (8500 - 1).
    for (const issue of issues) {
      expect(issue.expected).toContain('>= 33600 client connections');
      expect(issue.fix).toContain('short by 16602: set shards[0].pgbouncer.maxClientConnectionsPerReplica to 16801');
    }
  });

  it('one region\'s API growing fails every shard, not only the region\'s own', () => {
    const issues = pgbouncerIssues(issuesFor((f) => (f['us-east-1.yaml'].autoscaling.api.maxReplicas = 1100)));
    expect(issues.map((i) => i.file.split('/').pop())).toEqual(['ap-southeast-1.yaml', 'eu-west-1.yaml', 'us-east-1.yaml', 'us-west-2.yaml']);
    // 1100 + 1100 canary = 2200 pods in us-east-1, 2000 elsewhere: 8200 x 2 = 16400, + 5 % = 17220 > 2 x (8500 - 1).
    for (const issue of issues) {
      expect(issue.expected).toContain('us-east-1 2200 + us-west-2 2000 = 8200 API pods');
      expect(issue.expected).toContain('= 16400, + 5 % for uneven spread = 17220, and at least 2000 per shard');
      expect(issue.fix).toContain('short by 222: set shards[0].pgbouncer.maxClientConnectionsPerReplica to 8611');
    }
  });

  it('with instant abort a larger canary step changes nothing: the canary is counted at 100 % either way', () => {
    // The shipped sizes hold 2 x 1000 API pods per region; a 70 % step (30 → 100) needs no more.
    expect(issuesFor((f) => (f['global.yaml'].delivery.api.canarySteps = [10, 30]))).toEqual([]);
    // A too-small PgBouncer reports the same demand for [10, 50] and [10, 30]: 8000 API pods, 16000 clients.
    for (const canarySteps of [[10, 50], [10, 30]]) {
      const issue = only(pgbouncerIssues(issuesFor((f) => {
        f['global.yaml'].delivery.api.canarySteps = canarySteps;
        f['us-east-1.yaml'].shards[0].pgbouncer.maxClientConnectionsPerReplica = 7000;
      })));
      expect(issue.expected).toContain('= 8000 API pods (autoscaling.api.maxReplicas + a 100 % canary beside a full stable side (delivery.api.abortScaling: instant keeps stable at full size for an instant abort; dynamic would need only the largest weight step)) x postgres.apiPoolPerPod (2) = 16000');
    }
  });

  it('with delivery.api.abortScaling: dynamic a larger canary step counts as surge, for PgBouncer as for the app quota', () => {
    // Sized for dynamic abort and the shipped [10, 50]: 1500 API pods + 400 web = 1900 <= 2000 pods,
    // 4 x 1500 x 2 = 12000 clients, + 5 % = 12600 = 2 x (6301 - 1).
    const dynamicWithOldSizes = (f: RegionFiles) => {
      f['global.yaml'].delivery.api.abortScaling = 'dynamic';
      for (const name of ['us-east-1.yaml', 'us-west-2.yaml', 'eu-west-1.yaml', 'ap-southeast-1.yaml']) {
        f[name].namespaces.app.quota = { ...f[name].namespaces.app.quota, requestsCpu: '1100', requestsMemory: '1150Gi', limitsMemory: '2300Gi', pods: 2000 };
        f[name].shards[0].pgbouncer.maxClientConnectionsPerReplica = 6301;
      }
    };
    expect(issuesFor(dynamicWithOldSizes)).toEqual([]);
    const issues = issuesFor((f) => {
      dynamicWithOldSizes(f);
      f['global.yaml'].delivery.api.canarySteps = [10, 30];
    });
    // Largest jump 30 → 100 = 70 %: 1700 pods per region, 4 x 1700 x 2 = 13600 > 12000.
    const shards = pgbouncerIssues(issues);
    expect(shards).toHaveLength(4);
    for (const issue of shards) {
      expect(issue.expected).toContain(
        '= 6800 API pods (autoscaling.api.maxReplicas + 70 % canary surge (delivery.api.abortScaling: dynamic, the largest weight step; an abort then waits for stable pods to start)) x postgres.apiPoolPerPod (2) = 13600',
      );
    }
    // The app quota counts the same 1700 API pods: 1700 + 400 web + 2 gate Jobs = 2102 > 2000, in every serving region.
    const pods = issues.filter((i) => formatPath(i.path) === 'namespaces.app.quota.pods');
    expect(pods.map((i) => i.file.split('/').pop())).toEqual(['ap-southeast-1.yaml', 'eu-west-1.yaml', 'us-east-1.yaml', 'us-west-2.yaml']);
    for (const issue of pods) {
      expect(issue.expected).toMatch(/^>= 2102 = autoscaling\.api\.maxReplicas \(1000\) API pods \+ 70 % canary surge \(delivery\.api\.abortScaling: dynamic/);
      expect(issue.fix).toBe('raise namespaces.app.quota.pods by 102 or lower the maxima');
    }
  });

  it('a DR site in a region with fewer zones loses more pods to a zone outage, and fails the shard', () => {
    const issues = pgbouncerIssues(issuesFor((f) => (f['eu-central-1.yaml'].zones = ['eu-central-1a', 'eu-central-1b'])));
    const issue = only(issues);
    expect(issue.file).toMatch(/eu-west-1\.yaml$/);
    // 3 pods over 2 zones: a zone outage takes ceil(3 / 2) = 2, leaving 1 pod for 16800 clients.
    expect(issue.found).toBe('(8500 - 1 for the exporter) x (3 replicas - 2 a zone outage or drain may take) = 8499');
    expect(issue.fix).toContain('short by 8301: set shards[0].pgbouncer.maxClientConnectionsPerReplica to 16801');
  });

  it('PgBouncer pods a rollout can run (replicas + maxSurge + one draining) must each get a usable share of max_connections - reserved', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].shards[0].pgbouncer.replicas = 37)));
    expect(formatPath(issue.path)).toBe('shards[0].pgbouncer.replicas');
    expect(issue.found).toBe('37 (+ maxSurge 1 + 1 draining during a rollout = 39 PgBouncer pods, 9 server connections each)');
    expect(issue.expected).toBe(
      'few enough PgBouncer pods that each of the 39 a rollout can run gets >= 10 server connections of the 387 Postgres allows (max_connections 400 - reservedConnections 13)',
    );
    expect(issue.fix).toBe('set shards[0].pgbouncer.replicas to 36 or fewer, or give Postgres more memory (max_connections follows it)');
    // 36 + 1 + 1 pods x 10 = 380 <= 387: holds.
    expect(issuesFor((f) => (f['eu-west-1.yaml'].shards[0].pgbouncer.replicas = 36))).toEqual([]);
  });

  it('an archive timeout longer than the RPO fails (for the home site\'s archive and for the DR site\'s lag)', () => {
    const issues = issuesFor((f) => (f['global.yaml'].postgres.archiveTimeoutSeconds = 60));
    expect(issues.map((i) => `${i.file.split('/').pop()} ${formatPath(i.path)}`)).toEqual(['global.yaml postgres.archiveTimeoutSeconds', 'global.yaml postgres.archiveTimeoutSeconds']);
    expect(issues[0].expected).toBe('<= postgres.rpoSeconds (30): WAL older than the RPO must be archived');
    expect(issues[0].fix).toBe('set archiveTimeoutSeconds to 30 or less');
    expect(issues[1].found).toBe('60 s + walUploadBudgetSeconds 5 s + walRetrieveRetryIntervalSeconds 5 s = 70 s that a DR site can lag behind when its stream is broken');
    expect(issues[1].fix).toBe('set archiveTimeoutSeconds to 20 or less');
  });

  // Issue #11 item 4: a failed region must stop being answered within the RTO.
  it('a DNS TTL that, with health-check detection, exceeds the RTO fails, naming file, field and fix', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].dns.ttlSeconds = 300)));
    expect(issue.file).toMatch(/global\.yaml$/);
    expect(issue.line).toBeGreaterThan(1);
    expect(formatPath(issue.path)).toBe('dns.ttlSeconds');
    expect(issue.found).toBe('300 s TTL + 10 s x 3 (dns.healthCheck.requestIntervalSeconds x failureThreshold) = 330 s until every resolver stops answering with a failed region');
    expect(issue.expected).toBe('<= postgres.rtoSeconds (300): DNS failover must finish within the RTO');
    expect(issue.fix).toBe('lower dns.ttlSeconds to 270 or less, or detect faster (dns.healthCheck.requestIntervalSeconds 10, a lower failureThreshold)');
  });

  it('slow health-check detection counts against the RTO too; the shipped 60 s TTL + 10 s x 3 fits 300 s', () => {
    const issue = only(
      issuesFor((f) => {
        f['global.yaml'].dns.healthCheck.requestIntervalSeconds = 30;
        f['global.yaml'].dns.healthCheck.failureThreshold = 10;
      }),
    );
    expect(formatPath(issue.path)).toBe('dns.ttlSeconds');
    expect(issue.found).toContain('= 360 s');
    expect(issue.fix).toContain('or detect faster');
    expect(issuesFor(() => {})).toEqual([]);
  });

  it('a public host outside the DNS zone fails', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].ingress.apiHost = 'api.bookedbarber.net')));
    expect(formatPath(issue.path)).toBe('ingress.apiHost');
    expect(issue.expected).toContain('inside dns.zone (bookedbarber.com)');
  });

  it('a region whose records point at another region\'s load balancer, or share its health check, fails', () => {
    const lb = only(
      issuesFor((f) => (f['us-west-2.yaml'].dns.ingressLoadBalancer = f['us-east-1.yaml'].dns.ingressLoadBalancer)),
    );
    expect(lb.file).toMatch(/us-west-2\.yaml$/);
    expect(formatPath(lb.path)).toBe('dns.ingressLoadBalancer');
    expect(lb.expected).toContain('ending in .elb.us-west-2.amazonaws.com');
    expect(lb.fix).toContain('kubectl -n istio-ingress get svc istio-ingressgateway');
    const hc = only(issuesFor((f) => (f['eu-west-1.yaml'].dns.healthCheckId = f['us-east-1.yaml'].dns.healthCheckId)));
    expect(formatPath(hc.path)).toBe('dns.healthCheckId');
    expect(hc.expected).toMatch(/^a health check of its own \((us-east-1|eu-west-1) at \S+\.yaml:\d+ uses this one too\)$/);
  });

  it('a Redis maxmemory too close to the container limit fails', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].redis.tiers.cache.maxmemory = '4Gi')));
    expect(formatPath(issue.path)).toBe('redis.tiers.cache.maxmemory');
    // 4Gi: 80 % is 3276Mi, below 4096 - 64 - 256 - 409.6 = 3366Mi.
    expect(issue.fix).toBe('lower maxmemory to 3276Mi or raise resources.limits.memory');
  });

  // Eviction does not count a syncing replica's output buffer (hard limit 256mb by default) or the
  // backlog: on a small container 80 % leaves too little (the shipped rate-limit tier had 768Mi of 1Gi).
  it('a Redis maxmemory that leaves no room for replication buffers and a fork fails, though under 80 %', () => {
    const issue = only(issuesFor((f) => (f['global.yaml'].redis.tiers.rateLimit.maxmemory = '768Mi')));
    expect(formatPath(issue.path)).toBe('redis.tiers.rateLimit.maxmemory');
    // 1Gi: 1024 - 64 - 256 - 102.4 = 601.6Mi, below 80 % (819Mi).
    expect(issue.expected).toBe('<= 601Mi for a 1Gi limit: at most 80 %, and leaving room for what eviction does not count (64Mi replication backlog + 256Mi output buffer of a syncing replica) and 10 % for fragmentation and fork copy-on-write');
    expect(issue.fix).toBe('lower maxmemory to 601Mi or raise resources.limits.memory');
    expect(issuesFor((f) => (f['global.yaml'].redis.tiers.rateLimit.maxmemory = '600Mi'))).toEqual([]);
  });

  it('only the sessions tier has persistent storage', () => {
    expect(only(issuesFor((f) => delete f['global.yaml'].redis.tiers.sessions.storage)).expected).toContain('sessions are persisted');
    expect(only(issuesFor((f) => (f['global.yaml'].redis.tiers.cache.storage = '5Gi'))).expected).toContain('no storage');
  });
});

describe('storage invariants (encrypted StorageClasses, issue #14 item 1)', () => {
  it('a Postgres shard naming a class that is not ours fails, naming the file, the field and the Retain class', () => {
    const issue = only(issuesFor((f) => (f['eu-west-1.yaml'].shards[0].storage.className = 'gp3')));
    expect(issue.file).toMatch(/eu-west-1\.yaml$/);
    expect(issue.line).toBeGreaterThan(1);
    expect(formatPath(issue.path)).toBe('shards[0].storage.className');
    expect(issue.found).toBe('"gp3"');
    expect(issue.expected).toContain('one of our StorageClasses (bookedbarber-gp3-retain, bookedbarber-gp3-delete');
    expect(issue.fix).toBe('set it to bookedbarber-gp3-retain');
  });

  it('durable data on the Delete class fails (Postgres, Redis sessions); telemetry may use either class', () => {
    const pg = only(issuesFor((f) => (f['us-east-1.yaml'].shards[0].storage.className = 'bookedbarber-gp3-delete')));
    expect(formatPath(pg.path)).toBe('shards[0].storage.className');
    expect(pg.found).toBe('"bookedbarber-gp3-delete" (reclaimPolicy Delete)');
    expect(pg.fix).toBe('set it to bookedbarber-gp3-retain');
    const redis = only(issuesFor((f) => (f['global.yaml'].redis.tiers.sessions.storageClassName = 'bookedbarber-gp3-delete')));
    expect(formatPath(redis.path)).toBe('redis.tiers.sessions.storageClassName');
    expect(issuesFor((f) => {
      f['global.yaml'].monitoring.prometheus.storage.className = 'bookedbarber-gp3-retain';
      f['global.yaml'].tracing.jaeger.storage.className = 'bookedbarber-gp3-retain';
    })).toEqual([]);
  });

  it('every global class field is checked: Prometheus (and Alertmanager), Jaeger, Redis sessions', () => {
    const prom = only(issuesFor((f) => (f['global.yaml'].monitoring.prometheus.storage.className = 'gp2')));
    expect(prom.file).toMatch(/global\.yaml$/);
    expect(formatPath(prom.path)).toBe('monitoring.prometheus.storage.className');
    expect(prom.fix).toBe('set it to bookedbarber-gp3-retain or bookedbarber-gp3-delete');
    expect(formatPath(only(issuesFor((f) => (f['global.yaml'].tracing.jaeger.storage.className = 'standard'))).path)).toBe('tracing.jaeger.storage.className');
    const missing = only(issuesFor((f) => delete f['global.yaml'].redis.tiers.sessions.storageClassName));
    expect(formatPath(missing.path)).toBe('redis.tiers.sessions.storageClassName');
    expect(missing.found).toBe('nothing (field missing)');
    const memoryOnly = only(issuesFor((f) => (f['global.yaml'].redis.tiers.cache.storageClassName = 'bookedbarber-gp3-retain')));
    expect(formatPath(memoryOnly.path)).toBe('redis.tiers.cache.storageClassName');
    expect(memoryOnly.fix).toBe('remove storageClassName');
  });

  it('the class names follow the platform name', () => {
    const issues = issuesFor((f) => (f['global.yaml'].platform.name = 'barbers'));
    // Every shard, Prometheus, Jaeger and Redis sessions still name bookedbarber-*: all reported.
    expect(issues.filter((i) => i.expected.includes('one of our StorageClasses (barbers-gp3-retain, barbers-gp3-delete')).length).toBe(4 + 3);
  });

  it('a region without a KMS key fails', () => {
    const issue = only(issuesFor((f) => delete f['ap-southeast-2.yaml'].storage));
    expect(issue.file).toMatch(/ap-southeast-2\.yaml$/);
    expect(issue.expected).toContain('"storage"');
  });

  it('a KMS key ARN of the wrong shape fails (a bare key id, an S3 ARN)', () => {
    for (const arn of ['1f0c3e52-6a1d-4b8e-9c27-5d4e8a90b1c3', 'arn:aws:s3:::bookedbarber-pitr-us-east-1', 'arn:aws:kms:us-east-1:1234:key/x']) {
      const issue = only(issuesFor((f) => (f['us-east-1.yaml'].storage.kmsKeyArn = arn)));
      expect(formatPath(issue.path)).toBe('storage.kmsKeyArn');
    }
    // An alias ARN and a multi-Region key are fine.
    expect(issuesFor((f) => {
      f['us-east-1.yaml'].storage.kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:alias/bookedbarber-ebs';
      f['us-west-2.yaml'].storage.kmsKeyArn = `arn:aws:kms:us-west-2:123456789012:key/mrk-${'0123456789abcdef'.repeat(2)}`;
    })).toEqual([]);
  });

  it('a KMS key of another region fails, naming the region part and the fix', () => {
    const issue = only(issuesFor((f) => (f['eu-central-1.yaml'].storage.kmsKeyArn = f['eu-west-1.yaml'].storage.kmsKeyArn)));
    expect(issue.file).toMatch(/eu-central-1\.yaml$/);
    expect(formatPath(issue.path)).toBe('storage.kmsKeyArn');
    expect(issue.found).toContain('(region eu-west-1)');
    expect(issue.expected).toBe('a KMS key in eu-central-1: EBS volumes there can only be encrypted with a key of their own region');
    expect(issue.fix).toContain('arn:aws:kms:eu-central-1:<account>:key/<id>');
  });

  it('a backup KMS key of another region fails (S3 encrypts only with its bucket region\'s keys), and a gs:// bucket takes none', () => {
    const issue = only(issuesFor((f) => (f['us-west-2.yaml'].backup.kmsKeyArn = f['us-east-1.yaml'].storage.kmsKeyArn)));
    expect(issue.file).toMatch(/us-west-2\.yaml$/);
    expect(formatPath(issue.path)).toBe('backup.kmsKeyArn');
    expect(issue.expected).toBe('a KMS key in us-west-2: S3 encrypts the backup bucket (in this region) only with a key of its own region');
    expect(issuesFor((f) => (f['us-west-2.yaml'].backup.kmsKeyArn = 'arn:aws:kms:us-west-2:123456789012:alias/bookedbarber-pitr'))).toEqual([]);
    const gs = only(issuesFor((f) => {
      f['us-west-2.yaml'].backup.bucket = 'gs://bookedbarber-pitr-us-west-2';
      f['us-west-2.yaml'].backup.kmsKeyArn = 'arn:aws:kms:us-west-2:123456789012:alias/bookedbarber-pitr';
    }));
    expect(formatPath(gs.path)).toBe('backup.kmsKeyArn');
    expect(gs.fix).toBe("remove backup.kmsKeyArn and set the bucket's default encryption key in its own settings");
  });
});

describe('secret refresh interval (issue #14 item 4)', () => {
  it('is bounded: at least a minute, at most an hour', () => {
    expect(formatPath(only(issuesFor((f) => (f['global.yaml'].secretStore.refreshIntervalSeconds = 30))).path)).toBe('secretStore.refreshIntervalSeconds');
    expect(only(issuesFor((f) => (f['global.yaml'].secretStore.refreshIntervalSeconds = 7200))).expected).toContain('3600');
    expect(issuesFor((f) => (f['global.yaml'].secretStore.refreshIntervalSeconds = 300))).toEqual([]);
  });
});
