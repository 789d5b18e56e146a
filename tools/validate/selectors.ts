/** Kubernetes label selector semantics, for matching Services, PDBs and spreads to pods. */
import { asArray, isRecord } from './types';

/** Service-style selector (a plain map): every pair must be present in the labels. */
export function mapSelectorMatches(selector: Record<string, unknown>, labels: Record<string, unknown>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * `metav1.LabelSelector` (matchLabels + matchExpressions). An empty selector matches every
 * pod (policy/v1 PDB semantics); a missing or malformed one matches nothing.
 */
export function labelSelectorMatches(selector: unknown, labels: Record<string, unknown>): boolean {
  if (!isRecord(selector)) return false;
  if (isRecord(selector.matchLabels) && !mapSelectorMatches(selector.matchLabels, labels)) return false;
  for (const expr of asArray(selector.matchExpressions)) {
    if (!isRecord(expr) || typeof expr.key !== 'string') return false;
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = asArray(expr.values);
    switch (expr.operator) {
      case 'In': if (!has || !values.includes(labels[expr.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[expr.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** `a=b,c=d` for messages. */
export function formatLabels(labels: Record<string, unknown>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '(none)' : keys.map((k) => `${k}=${String(labels[k])}`).join(',');
}
