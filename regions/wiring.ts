/**
 * The shape of a runtime connection: who (a set of pods and its identity) needs what (a
 * Service, a pod port, an outside host, the Kubernetes API), on which port, and why.
 *
 * This is the contract between the declaration (charts/wiring/connections.ts, the one list of
 * every connection a region needs, from which the mesh chart also generates its policies)
 * and the wiring check (tools/validate/wiring/), which walks every declared connection hop by
 * hop over the rendered YAML alone. Plain data: no chart and no cdk8s here.
 */

/** Pods at one end of a connection. */
export interface Peer {
  /** Short DNS-label name used in messages and generated object names (`api`, `postgres-shard-1`). */
  readonly name: string;
  readonly namespace: string;
  /** Labels that select exactly these pods (NetworkPolicy podSelector, AuthorizationPolicy selector). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Service account of the pods: their mesh identity as a caller. */
  readonly serviceAccount: string;
  /**
   * Whether the pods run an Istio sidecar. Drives policy generation only (an AuthorizationPolicy
   * for a caller without a sidecar could never match); the check reads the rendered YAML.
   */
  readonly meshed: boolean;
  /**
   * Pods not rendered in this region's tree: an add-on's (the ingress gateway, the Argo Rollouts
   * controller, kube-dns, …) or another region's callers. The check takes their identity from
   * this declaration and cannot walk their own egress side.
   */
  readonly addon?: AddonIdentity;
}

/** What an add-on's pods look like, as its Helm chart installs them. */
export interface AddonIdentity {
  /** Where the facts come from (Helm chart and values), for whoever has to check them. */
  readonly source: string;
}

/** A Kubernetes Service, by the DNS name the client uses. */
export interface ServiceTarget {
  readonly kind: 'service';
  /** `<service>.<namespace>.svc.cluster.local` (or the shorter forms kube-dns resolves). */
  readonly host: string;
  /** Service port. */
  readonly port: number;
  /** The pods behind it and the port they listen on: what the generated policies open. */
  readonly server: Peer;
  readonly podPort: number;
}

/**
 * Pod IPs the client learns at run time (a Sentinel announcing a master, Patroni members, the
 * trace-ID load balancer resolving a headless Service): no ClusterIP in between.
 */
export interface PodTarget {
  readonly kind: 'pod';
  readonly server: Peer;
  readonly podPort: number;
  /** How the client finds the address (for messages and reviewers). */
  readonly via: string;
}

/**
 * A host outside the cluster (object storage, alert receivers), over the internet or a VPC
 * endpoint; or a host of another region (`*.global`), carried by that region's east-west gateway.
 */
export interface ExternalTarget {
  readonly kind: 'external';
  readonly host: string;
  readonly port: number;
  /**
   * The gateway the connection really goes to, when not the host itself: the home region's
   * east-west gateway (`port` 15443) for a `*.global` host. NetworkPolicies see this port.
   */
  readonly through?: { readonly host: string; readonly port: number };
  /**
   * For a sidecar of another region: the SPIFFE ID its certificate carries. The client's
   * ServiceEntry must name it in subjectAltNames, or the client accepts any workload of the
   * shared root as the server.
   */
  readonly identity?: string;
}

/** The Kubernetes API server through the `kubernetes` Service in `default`. */
/**
 * Where in-cluster Kubernetes clients (client-go, the Python client, Patroni) read their service
 * account token, the cluster CA and the namespace: the path a pod's API token must be mounted at.
 */
export const IN_CLUSTER_TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesApiTarget {
  readonly kind: 'kubernetes-api';
  /** Port of the API server endpoints behind the Service (443 on EKS). */
  readonly port: number;
  /**
   * The container of the client pods that calls the API, when only it gets a token (a projected
   * volume): the check looks for the token there. @default any container (automounted tokens reach all)
   */
  readonly container?: string;
}

export type Target = ServiceTarget | PodTarget | ExternalTarget | KubernetesApiTarget;

/**
 * How the client knows where to connect.
 * - `config`: the host is written in the client's rendered configuration: its container env,
 *   args, a ConfigMap it mounts, or (for operator-managed pods) its custom resource; the check
 *   looks for it there.
 * - `discovered`: the client discovers the address itself (Prometheus service discovery, Envoy's
 *   mesh config, in-cluster Kubernetes config, a Sentinel); `how` says from where.
 */
export type Discovery =
  | {
      readonly kind: 'config';
      /** Text that must appear in the configuration (default: the target's host). */
      readonly names?: string;
    }
  | { readonly kind: 'discovered'; readonly how: string };

/** A Secret key the client reads, and how it reaches the client's container. */
export interface Credential {
  readonly secret: string;
  readonly key: string;
  /** Environment variable the container reads it from (`secretKeyRef`), or … */
  readonly env?: string;
  /** … a file: the Secret mounted as a volume in the container. */
  readonly mounted?: boolean;
  /** Container of the client pods that needs it. */
  readonly container: string;
}

export interface Connection {
  /** Unique in a region, DNS-label safe: names the policies generated from it. */
  readonly name: string;
  readonly from: Peer;
  readonly to: Target;
  /** UDP only for gossip and DNS; everything else is TCP. */
  readonly protocol: 'TCP' | 'UDP';
  readonly discovery: Discovery;
  /** Secrets the client needs to log in. */
  readonly credentials?: readonly Credential[];
  readonly why: string;
  /**
   * Opened for every pod of a namespace by the namespaces chart's guard rails (DNS, istiod)
   * rather than by policies generated for this connection.
   */
  readonly guardrail?: boolean;
  /**
   * The connection comes from another region: its caller (`from`, not rendered here) reaches
   * `globalHost` through this region's east-west gateway (`gateway`), which hands the caller's
   * mTLS on unopened to the server. The server sees the gateway's address and the caller's identity.
   */
  readonly arrivesThrough?: { readonly gateway: Peer; readonly globalHost: string };
  /**
   * A connection known not to work yet, with the reason and the issue that fixes it. The check
   * still walks it and reports its first broken hop as a warning; once it passes, the mark must go.
   */
  readonly knownBroken?: string;
}

/** `<service>.<namespace>.svc.cluster.local`: the name every client in this repo uses. */
export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

/** SPIFFE principal of a service account, as AuthorizationPolicy `source.principals` spells it. */
export function principal(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The SPIFFE ID in a workload's certificate (what a client checks with subjectAltNames). */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${principal(trustDomain, namespace, serviceAccount)}`;
}
