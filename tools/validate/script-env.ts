/**
 * Rule `ref-script-env`: a psql script a pod mounts reads its variables from the environment
 * (`\getenv <variable> <ENV>`, psql 15+: Patroni's post_bootstrap runs bootstrap.sql that way, so
 * no password is written into a file), and the containers that mount it set every such ENV (a
 * literal value or valueFrom). An ENV they do not set leaves the psql variable unset: with
 * ON_ERROR_STOP the script stops at its first use, and a new cluster's roles and database are
 * never created. The script runs in one of the containers that mount it (a sidecar may mount the
 * same folder for a script of its own): a finding when none of them sets every ENV. Pods with a
 * container taking `envFrom` (names this tree cannot see) are not judged.
 */
import type { Context } from './context';
import { mountedFiles } from './mounted-files';
import { containerLabel, containersOf, podTemplates } from './pod-templates';
import { asArray, Entry, finding, isRecord, namespaceOf, RawFinding } from './types';

const GETENV = /^[ \t]*\\getenv[ \t]+\S+[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm;

export function checkScriptEnv(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  for (const tpl of podTemplates(e.obj)) {
    for (const file of mountedFiles(tpl, ns, ctx, e)) {
      if (!file.key.endsWith('.sql') || !file.text.includes('\\getenv')) continue;
      const wanted = [...new Set([...file.text.matchAll(GETENV)].map((m) => m[1]!))];
      if (wanted.length === 0) continue;
      // The script runs in one of the containers mounting it (Patroni's, not a sidecar that mounts
      // the same folder for a script of its own): a finding when none of them sets every ENV.
      const readers = containersOf(tpl, ['containers', 'initContainers'])
        .filter((ref) => asArray(ref.container.volumeMounts).some((m) => isRecord(m) && m.name === file.volume));
      if (readers.length === 0 || readers.some((ref) => asArray(ref.container.envFrom).length > 0)) continue;
      const missingIn = readers.map((ref) => {
        const set = new Set(asArray(ref.container.env).filter(isRecord).map((v) => String(v.name)));
        return { ref, missing: wanted.filter((name) => !set.has(name)) };
      });
      if (missingIn.some((r) => r.missing.length === 0)) continue;
      // Reported at the container that sets most of them: the one meant to run it.
      const { ref, missing } = [...missingIn].sort((a, b) => a.missing.length - b.missing.length)[0]!;
      out.push(finding(e, `${ref.path}.env`, 'ref-script-env',
        `${file.key} (ConfigMap ${String(file.configMap.obj.metadata?.name)}) reads ${missing.join(', ')} from the environment (\\getenv), which ${containerLabel(ref)} does not set (nor any other container mounting it): the psql variable stays unset and the script stops at its first use (a new cluster's roles and database are never created)`,
        `set ${missing.join(', ')} in the container (from the Secret that holds ${missing.length > 1 ? 'them' : 'it'}), or read the variable the container sets`));
    }
  }
  return out;
}
