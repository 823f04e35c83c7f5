// The pod runtimes, one module each (docker.ts, kubelet.ts, cluster.ts), as the network models are in models.ts: who builds the
// pods on a node. What differs per runtime is here as plain data and functions; code that must do something different
// per runtime switches on its `kind` and ends in assertNever, so a runtime added to PodRuntime fails to compile until
// every such switch handles it.
import type { PodNetwork } from "../config";
import type { PodSpec } from "../pods";
import { CLUSTER_RUNTIME, ClusterPodPlan } from "./cluster";
import { DOCKER_RUNTIME, DockerPodPlan } from "./docker";
import { KUBELET_RUNTIME, KubeletPodPlan } from "./kubelet";

/**
 * Who builds the pods on a node.
 * `docker`: the lab's own explicit steps through the node's Docker (pause container, CNI ADD, app containers).
 * `kubelet`: a real kubelet (static pods) and containerd's CRI, which calls the same CNI configuration.
 * `cluster`: the same kubelets, registered with a real control plane; the pods are Pod objects in its API server.
 */
export type PodRuntime = "docker" | "kubelet" | "cluster";
export const POD_RUNTIMES: readonly PodRuntime[] = ["docker", "kubelet", "cluster"];

/** What a pod's plan holds of its runtime: a tagged union, one member per runtime (PodPlan.runtime). */
export type PodRuntimePlan = DockerPodPlan | KubeletPodPlan | ClusterPodPlan;

/** What a runtime makes a pod's plan from: its spec, its node, the images it runs (after substitution), preloading. */
export interface PodRuntimeInputs {
    readonly spec: PodSpec;
    readonly node: string;
    readonly runImages: readonly string[];
    readonly preloaded: boolean;
}

/** What a node needs to know of its pods' runtime (LabNodeArgs.runtime): which one, and the image sandboxes start from. */
export interface NodeRuntime {
    readonly kind: PodRuntime;
    readonly sandboxImage: string;
}

/** What a runtime adds to the node container (the Docker provider's fields of the same names). */
export interface NodeContainerSettings {
    readonly init: boolean;
    readonly devices: readonly { readonly hostPath: string; readonly containerPath: string; readonly permissions: string }[];
    readonly tmpfs: Readonly<Record<string, string>>;
    readonly volumes: readonly { readonly containerPath: string }[];
    readonly envs: readonly string[];
}

/** A pod as the cockpit knows it from the stack outputs. */
export interface PodRef {
    readonly name: string;
    readonly node: string;
    readonly manifest?: string;
}

/** One pod runtime: everything the lab does differently for it that is data, or a pure function of the plan. */
export interface PodRuntimeDef<K extends PodRuntime> {
    /** In the config key's description: "'<kind>', <this>". */
    readonly configDescription: string;
    /** In the problem a bad podRuntime gets: "'<kind>' (<this>)". */
    readonly choice: string;
    /** On the live page: "pods built by <this>". */
    readonly headline: string;
    /** node/Dockerfile's stage the node image is built up to, and the image's name. */
    readonly nodeImage: { readonly name: string; readonly target: string };
    /** The node runs containerd (CRI) and kubelet: it waits for kubelet, and preloaded images go into containerd. */
    readonly kubeletOnNode: boolean;
    /** A new sandbox (after a node restart) gets a new IP, which the stack output does not follow. */
    readonly newSandboxNewIp: boolean;
    /** What the node container needs beyond a Docker-in-Docker node (undefined: nothing). */
    nodeSettings(sandboxImage: string): NodeContainerSettings | undefined;
    /** The pod's plan, as this runtime has it. */
    podPlan(p: PodRuntimeInputs): Extract<PodRuntimePlan, { kind: K }>;
    /** The name the runtime gives the pod (K8S_POD_NAME in its CNI calls). */
    podName(pod: string, node: string): string;
    /** One line saying what built the pod. */
    builtBy(p: PodRef): string;
    /** Why this runtime refuses the pod network (a problem, with `field` naming config keys); undefined: it takes it. */
    refuses(podNetwork: PodNetwork, field: (key: "podRuntime" | "podNetwork") => string): string | undefined;
}

export const RUNTIMES: { readonly [K in PodRuntime]: PodRuntimeDef<K> } = {
    docker: DOCKER_RUNTIME,
    kubelet: KUBELET_RUNTIME,
    cluster: CLUSTER_RUNTIME,
};

/** "a, b or c": `last` goes before the last item. */
function list(items: readonly string[], last: string): string {
    return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")}${last}${items[items.length - 1]}`;
}
/** The podRuntime config key's description. */
export const POD_RUNTIME_DESCRIPTION = `Who builds the pods on each node: ${list(POD_RUNTIMES.map((k) => `'${k}', ${RUNTIMES[k].configDescription}`), ", or ")}; pulumi up switches between them (the nodes are re-created).`;
/** The valid podRuntime values, each with a few words. */
export const POD_RUNTIME_CHOICES = list(POD_RUNTIMES.map((k) => `'${k}' (${RUNTIMES[k].choice})`), " or ");

export function isPodRuntime(s: unknown): s is PodRuntime {
    return (POD_RUNTIMES as readonly unknown[]).includes(s);
}
