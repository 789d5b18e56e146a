/**
 * Base of the charts rendered once for all regions into dist/argocd/<component>.yaml.
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PlatformPlan } from '../../regions/plan';
import { LABELS, MANAGED_BY } from './labels';

export interface GlobalChartProps {
  /** The platform plan: every region, in rollout-wave order. */
  readonly plan: PlatformPlan;
}

export abstract class GlobalChart extends Chart {
  readonly plan: PlatformPlan;

  protected constructor(scope: Construct, component: string, props: GlobalChartProps) {
    super(scope, component, {
      labels: { [LABELS.partOf]: props.plan.global.platform.name, [LABELS.managedBy]: MANAGED_BY },
      disableResourceNameHashes: true,
    });
    this.plan = props.plan;
  }
}
