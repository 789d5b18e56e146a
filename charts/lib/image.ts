/**
 * Image references pinned by an explicit version tag, with the digest appended when the config
 * has one: `repo:2.14.3@sha256:...`. A reviewer reads the version; the node pulls the digest.
 */
import type { ImageRelease } from '../../regions/model';

export function imageReference(image: ImageRelease): string {
  const { repository, version, digest } = image;
  if (!version || version === 'latest') {
    throw new Error(`image ${repository} must be pinned by a version tag, got "${version ?? ''}"`);
  }
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new Error(`image ${repository}:${version} digest must be sha256:<64 hex>, got "${digest}"`);
  }
  return `${repository}:${version}${digest ? `@${digest}` : ''}`;
}
