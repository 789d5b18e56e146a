/**
 * Encrypted storage (issue #14 item 1), over the tree every region renders (in memory, not the
 * committed dist/): each region renders our two encrypted EBS StorageClasses with its own KMS key,
 * and every claim the platform renders (PVC, StatefulSet volumeClaimTemplates, Prometheus and
 * Alertmanager storage templates) names one of the classes rendered in its own region folder,
 * durable data (Postgres, Redis sessions) the Retain one.
 */
import { describe, expect, it } from 'vitest';
import { EBS_CSI_PROVISIONER, EncryptedStorageClass, StorageChart } from '../../charts/storage/chart';
import { TracingChart } from '../../charts/tracing/chart';
import { loadPlan } from '../../regions/load';
import { storageClasses } from '../../regions/storage';
import { renderedObjects } from '../support/rendered';
import { find, newApp, objectsOf, regionPlan, type Obj } from '../support/charts';
import { REGIONS_DIR } from '../support/regions';
import { Chart } from 'cdk8s';

const plan = loadPlan(REGIONS_DIR);
const rendered = renderedObjects();
const [RETAIN, DELETE] = storageClasses(plan.global).map((c) => c.name);

/** Every claim of a rendered object: [where, storageClassName, app name]. */
function claims(o: { file: string; object: Obj }): Array<{ where: string; className: unknown; app: string }> {
  const { object } = o;
  const at = (path: string) => `${o.file}: ${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name} ${path}`;
  const app = object.metadata.labels?.['app.kubernetes.io/name'] ?? object.kind;
  if (object.kind === 'PersistentVolumeClaim') return [{ where: at('spec'), className: object.spec?.storageClassName, app }];
  if (object.kind === 'StatefulSet') {
    return (object.spec.volumeClaimTemplates ?? []).map((t: Obj, i: number) => ({ where: at(`volumeClaimTemplates[${i}]`), className: t.spec?.storageClassName, app }));
  }
  if ((object.kind === 'Prometheus' || object.kind === 'Alertmanager') && object.spec.storage?.volumeClaimTemplate) {
    return [{ where: at('storage.volumeClaimTemplate'), className: object.spec.storage.volumeClaimTemplate.spec?.storageClassName, app: object.kind }];
  }
  return [];
}

describe('encrypted StorageClasses', () => {
  it('the construct renders an encrypted gp3 EBS class with the key, late binding, expansion and the reclaim policy', () => {
    const chart = new Chart(newApp(), 'test');
    new EncryptedStorageClass(chart, 'sc', {
      name: 'x-gp3-retain', labels: { a: 'b' }, reclaimPolicy: 'Retain', purpose: 'tests',
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/x-ebs',
    });
    const [sc] = objectsOf(chart);
    expect(sc).toMatchObject({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'x-gp3-retain', labels: { a: 'b' } },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/x-ebs', 'csi.storage.k8s.io/fstype': 'ext4' },
      reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true,
    });
    expect(sc.metadata.namespace).toBeUndefined();
  });

  it('every region renders the Retain and the Delete class with its own key, in dist/<region>/storage.yaml', () => {
    expect([RETAIN, DELETE]).toEqual(['bookedbarber-gp3-retain', 'bookedbarber-gp3-delete']);
    for (const r of plan.regions) {
      const classes = rendered.filter((o) => o.folder === r.region.name && o.object.kind === 'StorageClass');
      expect(classes.map((o) => o.file), r.region.name).toEqual([`${r.region.name}/storage.yaml`, `${r.region.name}/storage.yaml`]);
      const byName = Object.fromEntries(classes.map((o) => [o.object.metadata.name, o.object]));
      expect(Object.keys(byName).sort()).toEqual([DELETE, RETAIN]);
      expect(byName[RETAIN].reclaimPolicy).toBe('Retain');
      expect(byName[DELETE].reclaimPolicy).toBe('Delete');
      for (const sc of classes.map((o) => o.object)) {
        expect(sc.provisioner).toBe(EBS_CSI_PROVISIONER);
        expect(sc.parameters).toEqual({ type: 'gp3', encrypted: 'true', kmsKeyId: r.region.storage.kmsKeyArn, 'csi.storage.k8s.io/fstype': 'ext4' });
        expect(sc.parameters.kmsKeyId.split(':')[3]).toBe(r.region.name);
        expect(sc.volumeBindingMode).toBe('WaitForFirstConsumer');
        expect(sc.allowVolumeExpansion).toBe(true);
        expect(sc.metadata.labels['bookedbarber.com/region']).toBe(r.region.name);
      }
    }
  });

  it('every claim the platform renders names a class rendered in its own region folder', () => {
    const all = rendered.flatMap((o) => claims(o).map((c) => ({ ...c, folder: o.folder })));
    // Postgres (home and DR sites), Redis sessions, Prometheus and Alertmanager in every region that runs them.
    expect(new Set(all.map((c) => c.app))).toEqual(new Set(['postgres', 'redis', 'Prometheus', 'Alertmanager']));
    expect(all.filter((c) => c.app === 'redis').every((c) => c.where.includes('sessions')), 'only the sessions tier has volumes').toBe(true);
    for (const c of all) {
      const here = rendered.filter((o) => o.folder === c.folder && o.object.kind === 'StorageClass').map((o) => o.object.metadata.name);
      expect(here, c.where).toContain(c.className);
    }
  });

  it('durable data sits on the Retain class, telemetry on the Delete class (as shipped)', () => {
    for (const o of rendered) {
      for (const c of claims(o)) {
        expect(c.className, c.where).toBe(c.app === 'postgres' || c.app.startsWith('redis') ? RETAIN : DELETE);
      }
    }
  });

  it('the Jaeger badger volume names the configured class', () => {
    const p = regionPlan('us-east-1');
    const t = p.global.tracing;
    const badger = { ...p, global: { ...p.global, tracing: { ...t, jaeger: { ...t.jaeger, storage: { type: 'badger' as const, size: '100Gi', className: t.jaeger.storage.className } } } } };
    const objects = objectsOf(new TracingChart(newApp(), { plan: badger }));
    const sts = objects.find((o) => o.kind === 'StatefulSet')!;
    expect(sts.spec.volumeClaimTemplates.map((t: Obj) => t.spec.storageClassName)).toEqual([DELETE]);
  });

  it('the chart alone renders exactly the two classes', () => {
    const objects = objectsOf(new StorageChart(newApp(), { plan: regionPlan('eu-central-1') }));
    expect(objects.map((o) => o.kind)).toEqual(['StorageClass', 'StorageClass']);
    expect(find(objects, 'StorageClass', RETAIN).parameters.kmsKeyId).toMatch(/^arn:aws:kms:eu-central-1:/);
  });
});
