/**
 * Images the Postgres chart runs besides `global.postgres.image` (Spilo: Postgres + Patroni +
 * WAL-G). Pinned here until the model grows a field for them (see the report on issue 4).
 */
import type { ImageRelease } from '../../regions/model';

/** prometheus-community/postgres_exporter. */
export const POSTGRES_EXPORTER_IMAGE: ImageRelease = {
  repository: 'quay.io/prometheuscommunity/postgres-exporter',
  version: 'v0.15.0',
};

/** Resources of the exporter sidecar: it runs a few catalog queries per scrape. */
export const POSTGRES_EXPORTER_RESOURCES = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '128Mi' },
} as const;

/** UID of the `postgres` user in the Spilo image (Zalando's operator runs it the same way). */
export const SPILO_UID = 101;
