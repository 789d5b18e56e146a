/**
 * The region files that give a cluster its capacity: Karpenter's node pools (charts/nodes) and
 * the StorageClasses (charts/storage). Argo CD syncs them before any add-on, in an Application
 * of their own per region (charts/argocd/chart.ts): every add-on runs on nodes Karpenter
 * launches from these pools, so inside the region Application, which syncs only after every
 * add-on is Healthy, they would wait for pods that wait for them.
 */

/** Chart ids (= file names without .yaml in dist/<region>). */
export const CAPACITY_COMPONENTS = { nodes: 'nodes', storage: 'storage' } as const;

/** The files, as the Applications' directory globs name them. */
export const CAPACITY_FILES: readonly string[] = Object.values(CAPACITY_COMPONENTS).map((c) => `${c}.yaml`).sort();
