/**
 * Base of every per-region component chart: one chart renders one file,
 * dist/<region>/<component>.yaml, and stamps the region labels on everything in it.
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import { regionLabels } from './metadata';

export interface RegionChartProps {
  /** The region's plan: its config and every name, computed once. */
  readonly plan: RegionPlan;
}

export abstract class RegionChart extends Chart {
  /** File name (without .yaml) under dist/<region>/. */
  readonly component: string;
  readonly plan: RegionPlan;

  protected constructor(scope: Construct, component: string, props: RegionChartProps) {
    // Explicit names everywhere: no hash suffixes that churn the diff when a construct id moves.
    super(scope, component, { labels: regionLabels(props.plan), disableResourceNameHashes: true });
    this.component = component;
    this.plan = props.plan;
  }
}
