/**
 * What Patroni runs once, right after initdb of a new shard (bootstrap.post_bootstrap): the
 * roles the rendered pg_hba.conf names, the bookings database, and PgBouncer's auth_query
 * function. Passwords are read by psql's \getenv from the pod's environment (a Secret produced
 * by an ExternalSecret), so neither file nor any command line carries one. The real-server
 * tests run the same SQL.
 */
import { BASE_BACKUP_STATUS_FILE } from './backup';
import { BOOKINGS_DATABASE, CREDENTIAL_PROPERTIES, POSTGRES_USERS } from './names';

export interface BootstrapPassword {
  /** psql variable the SQL uses. */
  readonly variable: string;
  /** Environment variable psql reads it from (\getenv). */
  readonly env: string;
  /** Property of the shard's credentials in the secret store. */
  readonly property: string;
}

/** Passwords of the roles the bootstrap creates (Patroni creates superuser, replication, rewind). */
export const BOOTSTRAP_PASSWORDS: readonly BootstrapPassword[] = [
  { variable: 'pgbouncer_password', env: 'PGBOUNCER_AUTH_PASSWORD', property: CREDENTIAL_PROPERTIES.pgbouncerPassword },
  { variable: 'exporter_password', env: 'EXPORTER_PASSWORD', property: CREDENTIAL_PROPERTIES.exporterPassword },
  { variable: 'api_password', env: 'API_PASSWORD', property: CREDENTIAL_PROPERTIES.apiPassword },
];

/** Name of PgBouncer's lookup function (schema-qualified, in the bookings database). */
export const PGBOUNCER_AUTH_FUNCTION = 'pgbouncer.get_auth';
/** Epoch seconds of the site's last successful base backup (0: none yet), in database postgres. */
export const BASE_BACKUP_AGE_FUNCTION = 'monitoring.base_backup_last_success';

export function renderBootstrapSql(): string {
  const u = POSTGRES_USERS;
  const getenv = BOOTSTRAP_PASSWORDS.map((p) => `\\getenv ${p.variable} ${p.env}`)
    .join('\n');
  return `-- Roles and database of a new shard; run once by Patroni's post_bootstrap (and by the real-server tests).
-- Passwords come from the environment (psql 15+ \\getenv), hashed with SCRAM on arrival.
\\set ON_ERROR_STOP on
${getenv}
SET password_encryption = 'scram-sha-256';
CREATE ROLE ${u.exporter} LOGIN PASSWORD :'exporter_password' IN ROLE pg_monitor;
CREATE ROLE ${u.pgbouncer} LOGIN PASSWORD :'pgbouncer_password';
CREATE ROLE ${u.api} LOGIN PASSWORD :'api_password';
-- The API owns its schema objects (migrations run through it); nobody else may connect.
CREATE DATABASE ${BOOKINGS_DATABASE} OWNER ${u.api};
REVOKE CONNECT ON DATABASE ${BOOKINGS_DATABASE} FROM PUBLIC;
GRANT CONNECT ON DATABASE ${BOOKINGS_DATABASE} TO ${u.api}, ${u.pgbouncer};
-- The age of the site's last base backup, for postgres_exporter (exporter-queries.yaml): the one
-- file the backup sidecar records it in, never any other file of the data directory.
CREATE SCHEMA monitoring AUTHORIZATION ${u.superuser};
REVOKE ALL ON SCHEMA monitoring FROM PUBLIC;
GRANT USAGE ON SCHEMA monitoring TO ${u.exporter};
CREATE FUNCTION ${BASE_BACKUP_AGE_FUNCTION}() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT CASE WHEN f.t ~ '^[0-9]+[[:space:]]*$' THEN pg_catalog.btrim(f.t, E' \\n\\r\\t')::bigint ELSE 0 END
    FROM (SELECT COALESCE(pg_catalog.pg_read_file('${BASE_BACKUP_STATUS_FILE}', 0, 32, true), '') AS t) f
  $$;
REVOKE ALL ON FUNCTION ${BASE_BACKUP_AGE_FUNCTION}() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${BASE_BACKUP_AGE_FUNCTION}() TO ${u.exporter};
\\connect ${BOOKINGS_DATABASE}
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- auth_query: PgBouncer looks up a client's SCRAM secret without reading pg_shadow itself. Only
-- ordinary login roles whose password has not expired: never a superuser or a replication role.
CREATE SCHEMA pgbouncer AUTHORIZATION ${u.superuser};
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO ${u.pgbouncer};
CREATE FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(p_usename text) RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow s
    WHERE s.usename = p_usename AND NOT s.usesuper AND NOT s.userepl
      AND (s.valuntil IS NULL OR s.valuntil > pg_catalog.now())
  $$;
REVOKE ALL ON FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${PGBOUNCER_AUTH_FUNCTION}(text) TO ${u.pgbouncer};
`;
}

/** The post_bootstrap hook: Patroni calls it with a superuser connection string as $1. */
export function renderPostBootstrapScript(configDir: string): string {
  return `#!/bin/sh
# Patroni post_bootstrap: create the shard's roles and database (see bootstrap.sql).
set -eu
exec psql "$1" -X -q -f ${configDir}/bootstrap.sql
`;
}
