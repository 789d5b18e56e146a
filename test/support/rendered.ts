/**
 * A fresh in-memory render of the shipped regions, read back from the YAML synth writes (YAML
 * 1.1, as Argo CD reads it): for checks over the whole tree that must not depend on the
 * committed dist/, which may lag the source during a change.
 */
import { parseAllDocuments } from 'yaml';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { renderAll } from '../../tools/synth/run';
import type { Obj } from './charts';
import { REGIONS_DIR } from './regions';

export interface RenderedObject {
  /** dist/ folder: the region, or argocd. */
  readonly folder: string;
  /** Path below dist/, e.g. us-east-1/web.yaml. */
  readonly file: string;
  readonly object: Obj;
  /** `<file> <kind> <namespace>/<name>`, for failure messages. */
  readonly where: string;
}

export function renderedObjects(): RenderedObject[] {
  return renderAll(definition, loadPlan(REGIONS_DIR), {}).flatMap((f) =>
    f.path.endsWith('.yaml')
      ? parseAllDocuments(f.content, { version: '1.1' })
          .map((d) => d.toJS() as Obj | null)
          .filter((o): o is Obj => o !== null)
          .map((object) => ({ folder: f.path.split('/')[0]!, file: f.path, object, where: `${f.path} ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}` }))
      : [],
  );
}
