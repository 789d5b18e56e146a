/**
 * Field paths as a reader types them: `spec.template.spec.containers[0].image`, with keys
 * that are not plain identifiers quoted: `metadata.labels["app.kubernetes.io/name"]`.
 */

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function child(path: string, key: string): string {
  if (PLAIN_KEY.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/**
 * Turns an ajv `instancePath` (JSON pointer) into our dotted path. Walks the data so a
 * numeric segment becomes `[n]` only under an array (a map key "0" stays a key).
 */
export function fromPointer(pointer: string, data: unknown): string {
  if (!pointer) return '';
  let path = '';
  let node: any = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      path = item(path, Number(seg));
    } else {
      path = child(path, seg);
    }
    node = node !== null && typeof node === 'object' ? node[seg] : undefined;
  }
  return path;
}
