// Cluster mode (config podRuntime: cluster): a real control plane on the LAN (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler), every node's kubelet registered with it under its own identity, and the
// pods as Pod objects the @pulumi/kubernetes provider applies with spec.nodeName from the lab's placement.
// Plain values only: names, addresses, the Pod objects, and the commands of the control plane's and the join's steps.
import { CLUSTER_DOMAIN, clusterDnsIp } from "../dns";
import { withCurrentInit } from "../node-init";
import type { NodeInitUpload } from "../load";
import { controlPlaneArgv, joinArgv, NODE_BIN_DIR, NODE_SCRIPTS } from "../node-contract";
import { shq } from "../shell";
import { PodSpec } from "../pods";
import { NODE_IMAGE_NAME } from "./docker";
import type { PodRef, PodRuntimeDef } from "./index";
import { kubeletNodeSettings, kubeletPod } from "./kubelet";

/** The Kubernetes release of every component (kubelet, the control plane, kubectl), and etcd's. */
export const KUBERNETES_VERSION = "v1.34.0";
export const ETCD_VERSION = "v3.6.4";
/** The API server's port on the control plane's LAN address (podnet-lib's API_PORT). */
export const API_PORT = 6443;
/** The control plane's name on the LAN and in the tree. */
export const CONTROL_PLANE = "control-plane";

export { CONTROL_PLANE_ENV, CONTROL_PLANE_ROLE, CONTROL_PLANE_VOLUMES } from "../node-contract";

export interface ControlPlanePlan {
    /** control-plane (also its hostname). */
    readonly name: string;
    /** Host-side container name: podnet-<stack>-control-plane. */
    readonly container: string;
    readonly lanIp: string;
    /** The Service range (the API server's --service-cluster-ip-range); its first address is the `kubernetes` Service. */
    readonly serviceCidr: string;
    /** The pods' range (kube-proxy's clusterCIDR: what is from a pod, and what is not, to masquerade). */
    readonly clusterCidr: string;
    /** The LAN's range: kube-proxy opens NodePorts on the node's addresses in it. */
    readonly lanCidr: string;
    /** The cluster DNS's address (kube-dns, the tenth of the Service range) and domain: kubelet's --cluster-dns and --cluster-domain. */
    readonly clusterDns: string;
    readonly clusterDomain: string;
    /** The host port on 127.0.0.1 the API server is published on. */
    readonly hostPort: number;
    /** What the kubelets talk to: https://<lanIp>:6443. */
    readonly server: string;
    /** What kubectl and the Pulumi provider talk to, on the host: https://127.0.0.1:<hostPort>. */
    readonly hostServer: string;
    /** The admin kubeconfig on the host, relative to the project folder (mode 0600): .lab/<stack>/kubeconfig. */
    readonly kubeconfigFile: string;
}

export function controlPlanePlan(prefix: string, stack: string, lanIp: string, ranges: { readonly serviceCidr: string; readonly clusterCidr: string; readonly lanCidr: string }, hostPort: number): ControlPlanePlan {
    return {
        name: CONTROL_PLANE,
        container: `${prefix}-${CONTROL_PLANE}`,
        lanIp,
        ...ranges,
        clusterDns: clusterDnsIp(ranges.serviceCidr),
        clusterDomain: CLUSTER_DOMAIN,
        hostPort,
        server: `https://${lanIp}:${API_PORT}`,
        hostServer: `https://127.0.0.1:${hostPort}`,
        kubeconfigFile: `.lab/${stack}/kubeconfig`,
    };
}

/** Cluster mode's pod plan: the Pod object the provider applies, and its resource's name. */
export interface ClusterPodPlan {
    readonly kind: "cluster";
    /** Resource name, e.g. web-1-pod. */
    readonly resourceName: string;
    /** The Pod object as the API server gets it. */
    readonly object: ClusterPodObject;
}
export interface ClusterPodObject {
    readonly apiVersion: "v1";
    readonly kind: "Pod";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: Record<string, unknown>;
}

/**
 * The pod as the API server gets it: kubelet's pod on a lab node (kubeletPod: spec.nodeName from the lab's placement,
 * so the scheduler has nothing to choose and the pod stays where the lab put it; the images the nodes hold; a 1 s
 * grace period), in the namespace default, tolerating a node that is NotReady or unreachable.
 */
export function clusterPodObject(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean): ClusterPodObject {
    const pod = kubeletPod(spec, node, runImages, preloaded, "cluster");
    return {
        ...pod,
        // The manifest's own labels (what a Service's selector picks it by), and the lab's.
        metadata: { name: pod.metadata.name, namespace: "default", labels: { ...spec.labels, "podnet-lab/runtime": "cluster" } },
        spec: {
            ...pod.spec,
            // A lab node stopped for a while (a break-and-fix exercise, a laptop asleep) keeps its pods: without these,
            // Kubernetes evicts a pod 5 minutes after its node went NotReady or Unreachable, and a bare Pod never comes back.
            tolerations: [
                { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
                { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
            ],
        },
    };
}

export const CLUSTER_RUNTIME: PodRuntimeDef<"cluster"> = {
    configDescription: "a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler in a container on the LAN), every node's kubelet registered with it, and the pods as Pod objects the Kubernetes provider applies (kubectl works on the lab)",
    choice: "a real control plane, registered kubelets, Pod objects",
    headline: "kubelet, from the lab's API server (Pod objects, containerd)",
    // Its stage adds the control plane's binaries and etcd to kubelet's; the control plane runs the same image.
    nodeImage: { name: `${NODE_IMAGE_NAME}-cluster-${KUBERNETES_VERSION}`, target: "cluster-node" },
    kubeletOnNode: true,
    // As in Kubernetes: a pod's IP belongs to its sandbox.
    newSandboxNewIp: true,
    nodeSettings: (sandboxImage) => kubeletNodeSettings(sandboxImage, "cluster"),
    podPlan: ({ spec, node, runImages, preloaded }) => ({ kind: "cluster", resourceName: `${spec.name}-pod`, object: clusterPodObject(spec, node, runImages, preloaded) }),
    // A pod from the API server keeps its own name (K8S_POD_NAME in containerd's CNI calls).
    podName: (pod) => pod,
    builtBy: (p: PodRef) => `built by kubelet on ${p.node}, from the lab's API server (Pod default/${p.name})`,
    refuses: (podNetwork, field) => (podNetwork === "docker0"
        ? `${field("podRuntime")} is 'cluster' but ${field("podNetwork")} is 'docker0', which has no CNI for kubelet's runtime to call; use podNetwork 'lab' or 'vxlan' with cluster, or podRuntime 'docker' with docker0`
        : undefined),
};

// --- The commands of cluster mode's steps (run on the host; each goes into a container with `docker exec`) -------
const words = (ws: readonly string[]) => ws.map(shq).join(" ");
const execIn = (container: string, interactive: boolean, ...ws: string[]) => `docker exec ${interactive ? "-i " : ""}${shq(container)} ${words(ws)}`;

export interface JoiningNode { readonly name: string; readonly container: string; readonly lanIp: string; readonly podCidr: string; }

/**
 * Waits until the control plane's API server is ready (its PID 1 installs the node scripts first, then starts the
 * components), and prints the versions.
 */
export function controlPlaneReadyCommand(cp: ControlPlanePlan, init: NodeInitUpload): { create: string } {
    return {
        // The init writes each script whole, one after another: podnet-lib, which the script sources, comes after it.
        create: withCurrentInit(cp.container, init,
            `for i in $(seq 100); do command -v ${NODE_SCRIPTS.controlPlane} >/dev/null && [ -f ${NODE_BIN_DIR}/podnet-lib ] && exec ${words(controlPlaneArgv.ready(120))}; sleep 0.1; done; ` +
            "echo \"$(hostname): the node init did not install the node scripts within 10s\" >&2; exit 1"),
    };
}

/**
 * The admin kubeconfig for the host (the API server at 127.0.0.1:<hostPort>): written to the project's
 * .lab/<stack>/kubeconfig (mode 0600) and printed, for the stack's secret output and the Kubernetes provider.
 * The delete removes the file.
 */
export function kubeconfigCommand(cp: ControlPlanePlan): { create: string; delete: string } {
    const file = shq(cp.kubeconfigFile);
    return {
        create: `mkdir -p ${shq(cp.kubeconfigFile.replace(/\/[^/]*$/, ""))} && (umask 077 && ${execIn(cp.container, false, ...controlPlaneArgv.kubeconfig(cp.hostServer))} > ${file}.new) && mv -f ${file}.new ${file} && cat ${file}`,
        delete: `rm -f ${file}`,
    };
}

/**
 * A node joins the cluster: its kubelet's key is made on the node and never leaves it; the control plane checks the
 * request's subject (CN=system:node:<node>, O=system:nodes), declares the Node with spec.podCIDR = the node's lab
 * subnet, and signs it; the node writes its kubeconfig and kubelet registers. Then waits until the Node is Ready and
 * prints it as `kubectl get node -o wide` does. Nothing to undo: a node re-created joins again under the same Node
 * (deleting it would leave its pods to Kubernetes' garbage collection until it is back); a node that leaves the lab
 * is taken out by nodesCommand.
 */
export function joinCommand(node: JoiningNode, cp: ControlPlanePlan): { create: string } {
    return {
        create: [
            execIn(node.container, false, ...joinArgv.csr(node.name)),
            execIn(cp.container, true, ...controlPlaneArgv.sign(node.name, node.podCidr)),
            execIn(node.container, true, ...joinArgv.join(node.name, node.lanIp, cp.server, cp.clusterCidr, cp.lanCidr, cp.clusterDns, cp.clusterDomain)),
        ].join(" | ") + ` && ${execIn(cp.container, false, ...controlPlaneArgv.waitNode(node.name, 120))}`,
    };
}

/**
 * The API server's Nodes are the lab's: any other Node (a node that left the lab, nodeCount 4 -> 3) is deleted. Its
 * input is the list of the lab's nodes, so it runs again whenever the list changes; prints each Node it deleted.
 */
export function nodesCommand(cp: ControlPlanePlan, nodes: readonly string[]): { create: string } {
    return { create: execIn(cp.container, false, ...controlPlaneArgv.nodes(nodes)) };
}
