/**
 * A release gate run as a Job: an Argo Rollouts AnalysisTemplate whose one metric is a Job (the
 * metric passes when the Job exits 0), with the program's files in a ConfigMap and its own
 * ServiceAccount, which the wiring declaration (charts/wiring/connections.ts) admits to the one
 * Service it tests. Used by the API canary's load test and the web preview's smoke tests.
 *
 * Argo Rollouts creates the Job in the Rollout's namespace; the pod is hardened, meshed (mTLS to
 * the Service under test, admitted by ServiceAccount, held until Envoy is ready) and never
 * restarted; its command must tell the sidecar to quit when it exits (quitSidecarOnExit).
 */
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AnalysisTemplate } from '../../imports/analysistemplate-argoproj.io';
import type { ImageRelease } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { type ContainerResources, hardenedPodTemplate } from './hardened-pod';
import { sidecarAnnotations } from './http-service';
import { runToCompletion } from './job-pod';
import { LABELS } from './labels';
import { appLabels, SYNC_WAVE, syncWave } from './metadata';

export interface AnalysisJobNames {
  readonly analysisTemplate: string;
  readonly configMap: string;
  readonly serviceAccount: string;
  /** Pod labels of the Job (the peer the wiring declares). */
  readonly selectorLabels: Readonly<Record<string, string>>;
}

/**
 * The names of a release gate's objects, from its service's names: `<rollout>-<gate>` for the
 * AnalysisTemplate and ServiceAccount, `<rollout>-<gate>-<files>` for the ConfigMap, and pod labels
 * of their own (`<app>-<gate>`), so policies can tell the tester from the service it tests.
 */
export function analysisJobNames(plan: RegionPlan, service: { readonly rollout: string; readonly app: string }, gate: string, files: string): AnalysisJobNames {
  const base = `${service.rollout}-${gate}`;
  return { analysisTemplate: base, configMap: `${base}-${files}`, serviceAccount: base, selectorLabels: appLabels(plan, `${service.app}-${gate}`, gate) };
}

export interface AnalysisJobProps {
  readonly plan: RegionPlan;
  readonly names: AnalysisJobNames;
  /** Name of the AnalysisTemplate's one metric. */
  readonly metricName: string;
  readonly image: ImageRelease;
  /** UID the image's program runs as. */
  readonly runAsUser: number;
  readonly container: string;
  readonly command: readonly string[];
  /** @default none */
  readonly env?: readonly k8s.EnvVar[];
  /** The program's files (ConfigMap data), mounted read-only at `mountPath`. */
  readonly files: Readonly<Record<string, string>>;
  /** Name of the pod volume holding `files`. */
  readonly volumeName: string;
  readonly mountPath: string;
  readonly resources: ContainerResources;
  /** Paths the program writes (emptyDirs: the root filesystem is read-only). */
  readonly writablePaths: readonly string[];
  /** How long the Job may run before it fails (and with it the gate). */
  readonly activeDeadlineSeconds: number;
  /** Argo CD sync wave of the objects. @default SYNC_WAVE.config — in place before the Rollout that runs them */
  readonly wave?: number;
}

export class AnalysisJob extends Construct {
  readonly templateName: string;

  constructor(scope: Construct, id: string, props: AnalysisJobProps) {
    super(scope, id);
    const { plan, names: n, image } = props;
    const { global, region } = plan;
    const labels = { ...n.selectorLabels };
    const meta = (name: string) => ({ name, namespace: plan.namespaces.app, labels, annotations: syncWave(props.wave ?? SYNC_WAVE.config) });
    this.templateName = n.analysisTemplate;

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(n.serviceAccount),
      // The program calls the Service under test, never the Kubernetes API.
      automountServiceAccountToken: false,
    });
    new k8s.KubeConfigMap(this, 'files', { metadata: meta(n.configMap), data: { ...props.files } });

    const template = runToCompletion(hardenedPodTemplate({
      selectorLabels: labels,
      region: region.name,
      partOf: global.platform.name,
      version: image.version,
      serviceAccountName: n.serviceAccount,
      runAsUser: props.runAsUser,
      annotations: {
        ...sidecarAnnotations(global.mesh.sidecar),
        'kubectl.kubernetes.io/default-container': props.container,
      },
      volumes: [{ name: props.volumeName, configMap: { name: n.configMap, optional: false } }],
      containers: [{
        name: props.container,
        image,
        command: props.command,
        env: props.env,
        resources: props.resources,
        // hardenedPodTemplate requires probes of serving containers; runToCompletion removes them.
        livenessProbe: { exec: { command: ['true'] } },
        readinessProbe: { exec: { command: ['true'] } },
        writablePaths: props.writablePaths,
        volumeMounts: [{ name: props.volumeName, mountPath: props.mountPath, readOnly: true }],
      }],
    }));

    new ApiObject(this, 'analysis', {
      ...AnalysisTemplate.GVK,
      metadata: meta(n.analysisTemplate),
      spec: {
        metrics: [{
          name: props.metricName,
          // One run: the Job's exit status is the verdict.
          count: 1,
          failureLimit: 0,
          provider: {
            job: {
              metadata: { labels: { ...labels, [LABELS.version]: image.version } },
              spec: {
                // A failed gate is a verdict, not a flake to retry into a pass.
                backoffLimit: 0,
                activeDeadlineSeconds: props.activeDeadlineSeconds,
                ttlSecondsAfterFinished: 24 * 3600,
                template: k8s.toJson_PodTemplateSpec(template),
              },
            },
          },
        }],
      },
    });
  }
}
