/**
 * Secrets never live in Git: rule `no-secret-data` (no Secret with data/stringData; secrets
 * come from ExternalSecrets) and rule `secret-env-literal` (an env var named like a secret
 * must come from valueFrom.secretKeyRef, not a literal value).
 */
import { item } from '../paths';
import { containerLabel, containersOf, podTemplates } from '../pod-templates';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';

const SECRET_WORDS = new Set(['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS']);
const SECRET_PAIRS = new Set(['API_KEY', 'PRIVATE_KEY', 'ACCESS_KEY']);
/** A literal path to a mounted secret is not the secret itself (`DB_PASSWORD_FILE=/run/...`). */
const PATH_SUFFIXES = new Set(['FILE', 'PATH', 'DIR']);

/** True when an env var name has a secret-looking word as a whole `_`-separated part. */
export function looksSecret(name: string): boolean {
  const parts = name.toUpperCase().split('_').filter((p) => p !== '');
  if (parts.length > 1 && PATH_SUFFIXES.has(parts[parts.length - 1])) return false;
  return parts.some((p, i) => SECRET_WORDS.has(p) || (i > 0 && SECRET_PAIRS.has(`${parts[i - 1]}_${p}`)));
}

export function checkNoSecretData(e: Entry): RawFinding[] {
  if (!isKind(e.obj, '', 'Secret')) return [];
  // An empty map carries nothing; any key (or a non-map value) would be committed to Git.
  const carries = (v: unknown) => v !== undefined && v !== null && !(isRecord(v) && Object.keys(v).length === 0);
  return ['data', 'stringData'].filter((f) => carries(e.obj[f])).map((f) =>
    finding(e, f, 'no-secret-data', `Secret carries ${f}: secret material would be committed to Git`,
      'render an ExternalSecret (external-secrets.io) whose target is this Secret name instead'));
}

export function checkSecretEnvLiteral(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    for (const c of containersOf(tpl)) {
      asArray(c.container.env).forEach((env, i) => {
        if (!isRecord(env) || typeof env.name !== 'string' || env.value === undefined || !looksSecret(env.name)) return;
        out.push(finding(e, `${item(`${c.path}.env`, i)}.value`, 'secret-env-literal', `${containerLabel(c)} sets ${env.name} to a literal value`,
          `use valueFrom.secretKeyRef (a Secret produced by an ExternalSecret) for ${env.name}`));
      });
    }
  }
  return out;
}
