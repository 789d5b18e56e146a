/**
 * Rule `rollout-spec`: what Argo Rollouts' own validation refuses and the CRD schema lets
 * through (argo-rollouts pkg/apis/rollouts/validation/validation.go). A Rollout it refuses goes
 * InvalidSpec: the release stops where it is, and the controller does nothing more with it.
 *  - a canary step sets an action, at most one of setWeight, pause, experiment and analysis, and a
 *    weight within 0..maxTrafficWeight (100);
 *  - blue-green's active and preview Services differ, and so do a canary's stable and canary ones.
 */
import { item } from '../paths';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';

/** The actions a canary step may set (validation.go: "Step must have one of the following set"). */
const STEP_ACTIONS = ['setWeight', 'pause', 'experiment', 'analysis', 'setCanaryScale', 'setHeaderRoute', 'setMirrorRoute', 'plugin'];
/** Of which a step may set only one (validation.go hasMultipleStepsType); setCanaryScale goes with any. */
const EXCLUSIVE_ACTIONS = ['setWeight', 'pause', 'experiment', 'analysis'];

export function checkRolloutSpec(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'argoproj.io', 'Rollout')) return [];
  const strategy = isRecord(e.obj.spec) && isRecord(e.obj.spec.strategy) ? e.obj.spec.strategy : {};
  const out: RawFinding[] = [];
  const blueGreen = isRecord(strategy.blueGreen) ? strategy.blueGreen : undefined;
  if (blueGreen && typeof blueGreen.activeService === 'string' && blueGreen.activeService === blueGreen.previewService) {
    out.push(finding(e, 'spec.strategy.blueGreen.previewService', 'rollout-spec', `the preview Service is the active one (${blueGreen.activeService}): Argo Rollouts refuses the Rollout (InvalidSpec), and the release stops`, 'name the preview Service, a Service of its own'));
  }
  const canary = isRecord(strategy.canary) ? strategy.canary : undefined;
  if (!canary) return out;
  if (typeof canary.stableService === 'string' && canary.stableService !== '' && canary.stableService === canary.canaryService) {
    out.push(finding(e, 'spec.strategy.canary.canaryService', 'rollout-spec', `the canary Service is the stable one (${canary.stableService}): Argo Rollouts refuses the Rollout (InvalidSpec)`, 'name the canary Service, a Service of its own'));
  }
  const routing = isRecord(canary.trafficRouting) ? canary.trafficRouting : {};
  const max = typeof routing.maxTrafficWeight === 'number' ? routing.maxTrafficWeight : 100;
  asArray(canary.steps).forEach((step, i) => {
    if (!isRecord(step)) return;
    const at = item('spec.strategy.canary.steps', i);
    const present = (a: string) => step[a] !== undefined && step[a] !== null;
    const exclusive = EXCLUSIVE_ACTIONS.filter(present);
    if (!STEP_ACTIONS.some(present)) {
      out.push(finding(e, at, 'rollout-spec', 'a step that sets none of its actions: Argo Rollouts refuses the Rollout (InvalidSpec)', `give it one of ${STEP_ACTIONS.join(', ')}`));
    } else if (exclusive.length > 1) {
      out.push(finding(e, at, 'rollout-spec', `a step that sets ${exclusive.join(' and ')} at once: Argo Rollouts refuses the Rollout (InvalidSpec)`, `split it into steps of one of ${EXCLUSIVE_ACTIONS.join(', ')} each`));
    }
    const weight = step.setWeight;
    if (typeof weight === 'number' && (weight < 0 || weight > max)) {
      out.push(finding(e, `${at}.setWeight`, 'rollout-spec', `setWeight ${weight}, outside 0..${max}: Argo Rollouts refuses the Rollout (InvalidSpec), and the release stops`, `a percentage of the traffic, 0 to ${max}`));
    }
  });
  return out;
}
