/**
 * The topology Job of a shard site: an Argo CD PostSync hook that PATCHes the site's desired
 * dynamic configuration (charts/postgres/site-topology.ts) into Patroni through the leader's
 * REST API, then waits until the leader holds the role the config says.
 *
 * This is what makes `shards[].activeRegion` a one-line promotion: flip it, and after the next
 * sync the DR site's Job removes `standby_cluster` (Patroni promotes its standby leader), the
 * old home's Job adds it (Patroni demotes that primary to a standby leader following the new
 * one, rewinding if needed), and the shard maps of every region point at the new site. On a
 * sync that changes nothing the PATCH is a no-op. When the old home region is down its Job
 * cannot run; it runs when the region's cluster is back and syncs, before anything routes there.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ShardConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { hardenedPodTemplate, type HardenedContainerProps } from '../lib/hardened-pod';
import { LABELS } from '../lib/labels';
import { HOLD_UNTIL_PROXY_STARTS } from '../lib/metadata';
import { SPILO_UID } from './images';
import { quitSidecarOnExit, runToCompletion } from '../lib/job-pod';
import { CREDENTIAL_PROPERTIES, POSTGRES_PORTS, postgresNames } from './names';
import { desiredDynamicConfig, hostedShard } from './site-topology';

/** Patroni's REST user (PATRONI_RESTAPI_USERNAME of the Postgres pods). */
export const PATRONI_REST_USER = 'patroni';

export interface TopologyJobProps {
  readonly plan: RegionPlan;
  readonly shard: ShardConfig;
  /** Longest the leader may take to reach its role after the PATCH. @default 300 (the RTO) */
  readonly roleTimeoutSeconds?: number;
}

/**
 * PATCH /config, then poll the leader's `GET /patroni` until Postgres itself reports the role
 * the config asks for, running. Not `GET /primary` or `/standby-leader`: with the lock held they
 * answer 200 as soon as the DCS says so, before (or without) the promotion or demotion having
 * happened (patroni/api.py). Patroni 3.x reports a primary as `master`, 4.x as `primary`. A
 * standby's replication state is printed, not required: when the active region is lost the
 * standby cannot stream, and its lag is what the alerts watch. The sidecar is asked to quit on
 * exit.
 */
export function renderTopologyScript(timeoutSeconds: number): string {
  return [
    'set -eu',
    quitSidecarOnExit('curl'),
    'api="http://${LEADER_HOST}:${PATRONI_PORT}"',
    'echo "desired dynamic configuration: ${DESIRED_CONFIG}"',
    'curl -fsS --retry 12 --retry-delay 5 --retry-all-errors -u "${PATRONI_USER}:${PATRONI_PASSWORD}" \\',
    '  -X PATCH -H "Content-Type: application/json" --data "${DESIRED_CONFIG}" "${api}/config" >/dev/null',
    `deadline=$(( $(date +%s) + ${timeoutSeconds} ))`,
    'while :; do',
    '  status="$(curl -fsS "${api}/patroni" 2>/dev/null || true)"',
    '  state="$(printf \'%s\' "${status}" | python3 -c \'import json,sys',
    'try: s = json.load(sys.stdin)',
    'except ValueError: s = {}',
    'print(s.get("role", "?"), s.get("state", "?"), s.get("replication_state", "-"))\')"',
    '  set -- ${state}',
    '  case "${EXPECTED_ROLE} $1 $2" in',
    '    "primary master running"|"primary primary running"|"standby_leader standby_leader running")',
    '      echo "the leader is ${EXPECTED_ROLE} (role $1, state $2, replication $3)"; exit 0 ;;',
    '  esac',
    '  if [ "$(date +%s)" -ge "${deadline}" ]; then',
    `    echo "the leader did not become \${EXPECTED_ROLE} within ${timeoutSeconds} s (role $1, state $2)" >&2`,
    '    exit 1',
    '  fi',
    '  sleep 5',
    'done',
  ].join('\n');
}

export class TopologyJob extends Construct {
  readonly apiObject: k8s.KubeJob;

  constructor(scope: Construct, id: string, props: TopologyJobProps) {
    super(scope, id);
    const { plan, shard } = props;
    const names = postgresNames(plan, shard.id);
    const hosted = hostedShard(plan, shard.id);
    const namespace = plan.namespaces.data;
    const labels = names.topologySelectorLabels;
    const timeout = props.roleTimeoutSeconds ?? plan.global.postgres.rtoSeconds;

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: names.topologyServiceAccount, namespace, labels: { ...labels } },
      // It calls Patroni, never the Kubernetes API.
      automountServiceAccountToken: false,
    });
    const container: HardenedContainerProps = {
      name: 'topology',
      // The Spilo image: curl is there, and no other image needs pinning.
      image: plan.versions.images.spilo,
      command: ['/bin/sh', '-c', renderTopologyScript(timeout)],
      env: [
        // The leader (spilo-role=master: the primary, or the standby leader of a standby site).
        { name: 'LEADER_HOST', value: names.readWriteHost },
        { name: 'PATRONI_PORT', value: String(POSTGRES_PORTS.patroni.port) },
        { name: 'PATRONI_USER', value: PATRONI_REST_USER },
        { name: 'PATRONI_PASSWORD', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: CREDENTIAL_PROPERTIES.patroniApiPassword } } },
        { name: 'DESIRED_CONFIG', value: JSON.stringify(desiredDynamicConfig(plan, hosted)) },
        { name: 'EXPECTED_ROLE', value: hosted.active ? 'primary' : 'standby_leader' },
      ],
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      // hardenedPodTemplate requires probes of serving containers; a Job's are removed below.
      livenessProbe: { exec: { command: ['true'] } },
      readinessProbe: { exec: { command: ['true'] } },
      writablePaths: ['/tmp'],
    };
    const template = hardenedPodTemplate({
      selectorLabels: labels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.spilo.version,
      serviceAccountName: names.topologyServiceAccount,
      runAsUser: SPILO_UID,
      annotations: HOLD_UNTIL_PROXY_STARTS,
      containers: [container],
      volumes: [],
    });
    this.apiObject = new k8s.KubeJob(this, 'Resource', {
      metadata: {
        name: names.topologyJob,
        namespace,
        labels: { ...labels, [LABELS.version]: plan.versions.images.spilo.version },
        annotations: {
          // After every sync, once the StatefulSet is healthy; the previous run is replaced.
          'argocd.argoproj.io/hook': 'PostSync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
        },
      },
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: timeout + 120,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template: runToCompletion(template),
      },
    });
  }
}
