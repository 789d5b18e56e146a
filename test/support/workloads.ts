/**
 * A minimal valid HardenedWorkload for tests to change one thing at a time.
 */
import { k8s } from 'cdk8s-plus-28';
import type { HardenedWorkloadProps } from '../../charts/lib/hardened-workload';

export function workloadProps(overrides: Partial<HardenedWorkloadProps> = {}): HardenedWorkloadProps {
  return {
    kind: 'Deployment',
    name: 'bookedbarber-demo',
    namespace: 'bookedbarber-app',
    replicas: 3,
    selectorLabels: { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/instance': 'demo-us-east-1', 'app.kubernetes.io/component': 'backend' },
    region: 'us-east-1',
    partOf: 'bookedbarber',
    version: '1.2.3',
    serviceAccountName: 'bookedbarber-demo',
    containers: [
      {
        name: 'demo',
        image: { repository: 'ghcr.io/bookedbarber/demo', version: '1.2.3' },
        ports: [{ name: 'http', containerPort: 8080 }],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromNumber(8080) } },
        readinessProbe: { httpGet: { path: '/ready', port: k8s.IntOrString.fromNumber(8080) } },
        writablePaths: ['/tmp'],
      },
    ],
    ...overrides,
  };
}
