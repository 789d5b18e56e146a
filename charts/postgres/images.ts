/**
 * How the Postgres chart runs its images. The images themselves (Spilo: Postgres + Patroni +
 * WAL-G, and postgres_exporter) are pinned in regions/versions.yaml (`images.spilo`,
 * `images.postgresExporter`).
 */

/** Resources of the exporter sidecar: it runs a few catalog queries per scrape. */
export const POSTGRES_EXPORTER_RESOURCES = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '128Mi' },
} as const;

/** UID of the `postgres` user in the Spilo image (Zalando's operator runs it the same way). */
export const SPILO_UID = 101;
