/**
 * Credentials by reference: an External Secrets Operator `ExternalSecret` (v1beta1) that
 * copies named keys from the store in `global.secretStore` into a Kubernetes Secret. The
 * rendered YAML only ever names remote keys, never values (DESIGN.md, "Secrets never appear
 * in dist/"); the validator counts `target.name` as an existing Secret for pod references.
 *
 * Shared by the data charts (Postgres, PgBouncer, Redis): keep the props stable.
 */
import { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import {
  ExternalSecretV1Beta1,
  ExternalSecretV1Beta1SpecSecretStoreRefKind,
  ExternalSecretV1Beta1SpecTargetCreationPolicy,
  ExternalSecretV1Beta1SpecTargetDeletionPolicy,
  ExternalSecretV1Beta1SpecTargetTemplateEngineVersion,
  ExternalSecretV1Beta1SpecTargetTemplateMergePolicy,
  type ExternalSecretV1Beta1SpecData,
} from '../../imports/externalsecret-external-secrets.io';
import type { GlobalConfig } from '../../regions/model';
import { SYNC_WAVE, syncWave } from './metadata';

/**
 * `spec.refreshInterval` of every ExternalSecret we render (global.secretStore.refreshIntervalSeconds):
 * the operator re-reads the store this often, so a rotated value reaches the Secret within it.
 * One interval for all, with no per-Secret override: the rotation runbook (docs/secrets.md) waits
 * for exactly this. A Go duration, in the largest whole unit (3600 -> 1h, 300 -> 5m, 90 -> 90s).
 */
export function secretRefreshInterval(global: GlobalConfig): string {
  const seconds = global.secretStore.refreshIntervalSeconds;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Where one Secret key comes from: a remote key, optionally one property of a JSON value. */
export interface RemoteKeyRef {
  /** Key (path/name) in the external store. */
  readonly key: string;
  /**
   * Property inside the remote value when it is a JSON object.
   * @default - the whole remote value
   */
  readonly property?: string;
}

export interface CredentialsFromStoreProps {
  /** The region's plan: which secret store to read. */
  readonly plan: RegionPlan;
  /** Name of the ExternalSecret and of the Secret it produces (`target.name`). */
  readonly name: string;
  /** Namespace of the ExternalSecret and of the Secret it produces. */
  readonly namespace: string;
  /** Labels of the ExternalSecret (usually `appLabels(...)` of the workload that reads it). */
  readonly labels: Readonly<Record<string, string>>;
  /** Secret key → remote key (a string) or remote key + property. */
  readonly keys: Readonly<Record<string, string | RemoteKeyRef>>;
  /**
   * Secret keys rendered from the fetched values with ESO's template engine v2 (Go
   * templates over the `keys` names), e.g. a config file that embeds a password. When set,
   * `mergePolicy: Merge` keeps the plain `keys` in the Secret too.
   * @default - the Secret holds exactly `keys`
   */
  readonly template?: Readonly<Record<string, string>>;
  /**
   * Kubernetes Secret type of the produced Secret (e.g. `kubernetes.io/tls`).
   * @default - Opaque
   */
  readonly secretType?: string;
}

export class CredentialsFromStore extends Construct {
  /** Name of the Kubernetes Secret pods reference (`secretKeyRef.name`, `secret.secretName`). */
  readonly secretName: string;
  /** The Secret keys it produces (plain keys plus template keys). */
  readonly secretKeys: readonly string[];
  readonly apiObject: ExternalSecretV1Beta1;

  constructor(scope: Construct, id: string, props: CredentialsFromStoreProps) {
    super(scope, id);
    const entries = Object.entries(props.keys);
    if (entries.length === 0) throw new Error(`ExternalSecret ${props.name}: keys must name at least one key`);
    const store = props.plan.global.secretStore;
    const data: ExternalSecretV1Beta1SpecData[] = entries.map(([secretKey, ref]) => ({
      secretKey,
      remoteRef: typeof ref === 'string' ? { key: ref } : { key: ref.key, property: ref.property },
    }));
    const template =
      props.template || props.secretType
        ? {
            ...(props.secretType ? { type: props.secretType } : {}),
            ...(props.template ? { data: { ...props.template } } : {}),
            // Merge: keep the plain keys next to the templated ones (Replace would drop them).
            ...(props.template ? {
                  mergePolicy: ExternalSecretV1Beta1SpecTargetTemplateMergePolicy.MERGE,
                  engineVersion: ExternalSecretV1Beta1SpecTargetTemplateEngineVersion.V2,
                } : {}),
          }
        : undefined;
    this.secretName = props.name;
    this.secretKeys = [...entries.map(([k]) => k), ...Object.keys(props.template ?? {})];
    this.apiObject = new ExternalSecretV1Beta1(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { ...props.labels },
        // Before the workloads that mount the Secret, so their first pods find it.
        annotations: syncWave(SYNC_WAVE.config),
      },
      spec: {
        refreshInterval: secretRefreshInterval(props.plan.global),
        secretStoreRef: { kind: store.kind as ExternalSecretV1Beta1SpecSecretStoreRefKind, name: store.name },
        target: {
          name: props.name,
          // Owner: the Secret lives and dies with the ExternalSecret (Argo CD prunes both).
          creationPolicy: ExternalSecretV1Beta1SpecTargetCreationPolicy.OWNER,
          // Retain: a store outage or a deleted remote key must not delete a live database password.
          deletionPolicy: ExternalSecretV1Beta1SpecTargetDeletionPolicy.RETAIN,
          ...(template ? { template } : {}),
        },
        data,
      },
    });
  }
}
