/**
 * Rule `storage-encrypted`: every volume of the platform is encrypted at rest. A StorageClass of
 * the AWS EBS CSI driver creates unencrypted volumes unless its `encrypted` parameter is true
 * (aws-ebs-csi-driver pkg/driver/controller.go: `case EncryptedKey: if value == "true"`, the
 * exact text in its older releases, isTrue(value) in newer ones; without it, only an account-wide
 * default would encrypt), and so does the in-tree `kubernetes.io/aws-ebs` name, which CSI
 * migration hands to the same driver.
 * Encryption cannot be added to a volume later: every PVC made from the class would have to be copied.
 */
import { Entry, finding, isKind, isRecord, RawFinding } from '../types';

const EBS_CSI = 'ebs.csi.aws.com';
const IN_TREE = 'kubernetes.io/aws-ebs';

export function checkStorageEncrypted(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'storage.k8s.io', 'StorageClass')) return [];
  const provisioner = e.obj.provisioner;
  if (provisioner !== EBS_CSI && provisioner !== IN_TREE) return [];
  const parameters = isRecord(e.obj.parameters) ? e.obj.parameters : {};
  const encrypted = parameters.encrypted;
  if (encrypted === 'true') return [];
  return [
    finding(e, 'parameters.encrypted', 'storage-encrypted', `${encrypted === undefined ? 'no encrypted parameter' : `encrypted ${JSON.stringify(encrypted)}`}: the EBS volumes of this class are created unencrypted (unless the account encrypts EBS by default, and then with the aws/ebs key, not the region's), and a volume cannot be re-keyed later`,
      'set parameters.encrypted: "true", exactly (with kmsKeyId, the region\'s key: storage.kmsKeyArn)'),
  ];
}
