/**
 * The PgBouncer exporter image (PgBouncer itself is `global.pgbouncer.image`). Pinned here until
 * the model grows a field for it (see the report on issue 4).
 */
import type { ImageRelease } from '../../regions/model';

/** prometheus-community/pgbouncer_exporter: reads SHOW STATS/POOLS from the admin console. */
export const PGBOUNCER_EXPORTER_IMAGE: ImageRelease = {
  repository: 'quay.io/prometheuscommunity/pgbouncer-exporter',
  version: 'v0.9.0',
};

export const PGBOUNCER_EXPORTER_RESOURCES = {
  requests: { cpu: '20m', memory: '32Mi' },
  limits: { memory: '64Mi' },
} as const;

/** UID of the `pgbouncer` user in the CloudNativePG PgBouncer image. */
export const PGBOUNCER_UID = 998;
