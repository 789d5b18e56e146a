/**
 * How the PgBouncer chart runs its images. The images themselves (PgBouncer and
 * prometheus-community/pgbouncer_exporter, which reads SHOW STATS/POOLS from the admin console)
 * are pinned in regions/versions.yaml (`images.pgbouncer`, `images.pgbouncerExporter`).
 */

export const PGBOUNCER_EXPORTER_RESOURCES = {
  requests: { cpu: '20m', memory: '32Mi' },
  limits: { memory: '64Mi' },
} as const;

/** UID of the `pgbouncer` user in the CloudNativePG PgBouncer image. */
export const PGBOUNCER_UID = 998;
