// The cluster DNS (cluster mode): CoreDNS as a Deployment behind the kube-dns Service, at the tenth address of the
// Service range, as kubeadm makes it; every kubelet tells its pods to ask it (--cluster-dns, --cluster-domain).
// Pure: the objects the Kubernetes provider applies, from plain values.
import { numberToIp, parseCidr } from "./ip";

/** The cluster's domain: web.default.svc.cluster.local. */
export const CLUSTER_DOMAIN = "cluster.local";
/** CoreDNS as Kubernetes v1.34's kubeadm installs it (the official image, pinned). */
export const COREDNS_VERSION = "v1.12.1";
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:${COREDNS_VERSION}`;
/** Its namespace, Service and objects' names, as in every kubeadm cluster. */
export const DNS_NAMESPACE = "kube-system";
export const DNS_SERVICE = "kube-dns";
export const COREDNS = "coredns";

/** The tenth address of the Service range (10.96.0.10 in 10.96.0.0/12): the cluster DNS's ClusterIP. */
export function clusterDnsIp(serviceCidr: string): string {
    const c = parseCidr(serviceCidr);
    if (!c) { throw new Error(`clusterDnsIp: '${serviceCidr}' is not a CIDR`); }
    return numberToIp(c.base + 10);
}

/**
 * CoreDNS's configuration: the cluster's names from the API (Services, and pods by their IPs), its health and
 * readiness endpoints, a cache. Nothing is forwarded upstream: the lab reaches no outside resolver (the LAN's outside
 * host stands in for the internet), so a name outside cluster.local is answered NXDOMAIN or SERVFAIL.
 */
export function corefile(domain: string = CLUSTER_DOMAIN): string {
    return [
        ".:53 {",
        "    errors",
        "    health :8080",
        "    ready :8181",
        `    kubernetes ${domain} in-addr.arpa ip6.arpa {`,
        "        pods insecure",
        "        fallthrough in-addr.arpa ip6.arpa",
        "        ttl 30",
        "    }",
        "    cache 30",
        "    loadbalance",
        "}",
        "",
    ].join("\n");
}

export interface DnsPlan {
    /** kube-dns's ClusterIP: the tenth address of the Service range. */
    readonly ip: string;
    readonly domain: string;
    /** The image as run (after imageSubstitutions). */
    readonly image: string;
    /** The objects, in the order they are applied (each as the API server gets it). */
    readonly serviceAccount: Record<string, unknown>;
    readonly clusterRole: Record<string, unknown>;
    readonly clusterRoleBinding: Record<string, unknown>;
    readonly configMap: Record<string, unknown>;
    readonly deployment: Record<string, unknown>;
    readonly service: Record<string, unknown>;
}

const LABELS = { "k8s-app": DNS_SERVICE };
const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: DNS_NAMESPACE } : {}), labels: { ...LABELS, "podnet-lab/runtime": "cluster" } });

/** The cluster DNS's objects, as kubeadm's addon has them (one replica: a lab's DNS needs no second). */
export function dnsPlan(serviceCidr: string, image: string, domain: string = CLUSTER_DOMAIN): DnsPlan {
    const ip = clusterDnsIp(serviceCidr);
    return {
        ip,
        domain,
        image,
        serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(COREDNS) },
        clusterRole: {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta(`system:${COREDNS}`, false),
            rules: [
                { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
            ],
        },
        clusterRoleBinding: {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: meta(`system:${COREDNS}`, false),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `system:${COREDNS}` },
            subjects: [{ kind: "ServiceAccount", name: COREDNS, namespace: DNS_NAMESPACE }],
        },
        configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(COREDNS), data: { Corefile: corefile(domain) } },
        deployment: {
            apiVersion: "apps/v1", kind: "Deployment", metadata: meta(COREDNS),
            spec: {
                replicas: 1,
                selector: { matchLabels: LABELS },
                template: {
                    metadata: { labels: LABELS },
                    spec: {
                        serviceAccountName: COREDNS,
                        // Its own resolver is the node's (it must not ask itself).
                        dnsPolicy: "Default",
                        terminationGracePeriodSeconds: 1,
                        tolerations: [
                            { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
                            { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
                        ],
                        containers: [{
                            name: COREDNS,
                            image,
                            imagePullPolicy: "IfNotPresent",
                            args: ["-conf", "/etc/coredns/Corefile"],
                            ports: [
                                { name: "dns", containerPort: 53, protocol: "UDP" },
                                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                            ],
                            readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                            livenessProbe: { httpGet: { path: "/health", port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10 },
                            volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
                            // As kubeadm's: the official image runs as a non-root user, which binds port 53 with this one power.
                            securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] }, readOnlyRootFilesystem: true },
                        }],
                        volumes: [{ name: "config", configMap: { name: COREDNS, items: [{ key: "Corefile", path: "Corefile" }] } }],
                    },
                },
            },
        },
        service: {
            apiVersion: "v1", kind: "Service", metadata: meta(DNS_SERVICE),
            spec: {
                selector: LABELS,
                clusterIP: ip,
                ports: [
                    { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
                    { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
                ],
            },
        },
    };
}
