// Kubelet mode (config podRuntime: kubelet): each node runs containerd (CRI) and a real kubelet in standalone mode,
// and each pod is a static pod manifest on its node. Everything here is plain values: the manifests' text, names, paths.
import { KUBELET_NODE_VOLUMES, NODE_ENV, STATIC_POD_DIR } from "../node-contract";
import { PodSpec, toKubernetesPod } from "../pods";
import { toYaml } from "../yaml";
import { NODE_IMAGE_NAME } from "./docker";
import type { NodeContainerSettings, PodRef, PodRuntimeDef } from "./index";

/** The kubelet release the node image carries (node/Dockerfile downloads it; the e2e image builds it from source). */
export const KUBELET_VERSION = "v1.34.0";
/** Where a standalone kubelet reads its static pods (--pod-manifest-path): plan/node-contract.ts's, as podnet-lib's MANIFESTS. */
export { STATIC_POD_DIR };
/** Seconds kubelet gives a removed pod's containers before it kills them; then containerd runs the CNI DEL. */
export const STATIC_POD_GRACE_SECONDS = 1;

/**
 * A pod as kubelet gets it on a lab node (kubelet mode's static pod, cluster mode's Pod object): the rendered
 * manifest (the same spec, placed on its node), labelled with the runtime, with three changes for a node without a
 * registry: each container runs the image the node holds (after imageSubstitutions), kubelet uses it as it is
 * (imagePullPolicy IfNotPresent, when the lab preloads images), and a removed pod goes in STATIC_POD_GRACE_SECONDS
 * (its CNI DEL follows at once).
 */
export function kubeletPod(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean, runtime: "kubelet" | "cluster"):
    { apiVersion: "v1"; kind: "Pod"; metadata: { name: string } & Record<string, unknown>; spec: Record<string, unknown> } {
    const pod = toKubernetesPod(spec, node) as unknown as { metadata: { name: string } & Record<string, unknown>; spec: { containers: Record<string, unknown>[] } & Record<string, unknown> };
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...pod.metadata, labels: { "podnet-lab/runtime": runtime } },
        spec: {
            ...pod.spec,
            terminationGracePeriodSeconds: STATIC_POD_GRACE_SECONDS,
            containers: pod.spec.containers.map((c, i) => ({
                ...c, image: runImages[i] ?? c.image, ...(preloaded ? { imagePullPolicy: "IfNotPresent" } : {}),
            })),
        },
    };
}

/** One pod as a static pod on its node. */
export interface StaticPodPlan {
    /** Resource name, e.g. web-1-static. */
    readonly resourceName: string;
    /** The manifest's path on the node. */
    readonly path: string;
    /** The name kubelet gives a static pod: the manifest's name and the node's, e.g. web-1-node3 (K8S_POD_NAME in CNI_ARGS). */
    readonly kubeletName: string;
    /** The manifest as written on the node (YAML). */
    readonly text: string;
}
/** Kubelet mode's pod plan: the pod as a static pod on its node. */
export interface KubeletPodPlan { readonly kind: "kubelet"; readonly staticPod: StaticPodPlan }

/** Where a pod's static pod manifest is on its node. */
export function staticPodPath(pod: string): string { return `${STATIC_POD_DIR}/${pod}.yaml`; }
/** A pod's manifest as its outputs name it; outputs older than the field: where the lab has always put it. */
export function manifestOf(p: PodRef): string { return p.manifest ?? staticPodPath(p.name); }

/** kubelet names a static pod after its manifest and its node (pod.Name + "-" + nodeName). */
export function kubeletPodName(pod: string, node: string): string { return `${pod}-${node}`; }

/** The pod's manifest as kubelet reads it from its node's manifest folder (kubeletPod). */
export function staticPodManifest(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean): Record<string, unknown> {
    return kubeletPod(spec, node, runImages, preloaded, "kubelet");
}

export function staticPodPlan(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean): StaticPodPlan {
    return {
        resourceName: `${spec.name}-static`,
        path: staticPodPath(spec.name),
        kubeletName: kubeletPodName(spec.name, node),
        text: toYaml(staticPodManifest(spec, node, runImages, preloaded)),
    };
}

/**
 * The name containerd keeps an image under (Docker's normalisation): nginx:1.27 -> docker.io/library/nginx:1.27,
 * podnet-e2e/web:test -> docker.io/podnet-e2e/web:test; a name with a registry host stays; no tag means :latest.
 */
export function containerdImageName(ref: string): string {
    const slash = ref.indexOf("/");
    const first = slash < 0 ? "" : ref.slice(0, slash);
    const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
    let name = hasHost ? ref : slash < 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
    const last = name.slice(name.lastIndexOf("/") + 1);
    if (!last.includes(":") && !name.includes("@")) { name += ":latest"; }
    return name;
}

/**
 * What a node container needs to run kubelet and containerd inside (kubelet mode), beyond a Docker-in-Docker node:
 * - an init as PID 1 (`docker run --init`): containerd's shims and kubelet's children are re-parented to it, and
 *   without one that reaps them they stay zombies;
 * - /dev/kmsg, which kubelet's OOM watcher reads;
 * - /run on tmpfs: after a restart containerd and its shims find no state of processes that are gone (a real
 *   node's /run is emptied by a reboot too);
 * - containerd's and kubelet's state in volumes of their own, on the host's filesystem (containerd's overlayfs
 *   snapshots cannot sit on the node's own overlay root); kept across restarts, removed with the node.
 * - the mode (kubelet, or cluster: the same, registered with the lab's API server) and the sandbox image, in the
 *   environment the node's entrypoint reads.
 */
export function kubeletNodeSettings(sandboxImage: string, runtime: "kubelet" | "cluster" = "kubelet"): NodeContainerSettings {
    return {
        init: true,
        devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "rwm" }],
        tmpfs: { "/run": "rw,exec,mode=755" },
        volumes: [{ containerPath: KUBELET_NODE_VOLUMES.containerd }, { containerPath: KUBELET_NODE_VOLUMES.kubelet }],
        envs: [`${NODE_ENV.podRuntime}=${runtime}`, `${NODE_ENV.sandboxImage}=${sandboxImage}`],
    };
}

export const KUBELET_RUNTIME: PodRuntimeDef<"kubelet"> = {
    configDescription: "a real kubelet (standalone, static pods from /etc/kubernetes/manifests) and containerd's CRI, which calls the same CNI configuration",
    choice: "a real kubelet and containerd",
    headline: "kubelet (static pods, containerd)",
    // Its stage adds the official release, and is named for it.
    nodeImage: { name: `${NODE_IMAGE_NAME}-kubelet-${KUBELET_VERSION}`, target: "kubelet-node" },
    kubeletOnNode: true,
    // As in Kubernetes: a pod's IP belongs to its sandbox.
    newSandboxNewIp: true,
    nodeSettings: (sandboxImage) => kubeletNodeSettings(sandboxImage),
    podPlan: ({ spec, node, runImages, preloaded }) => ({ kind: "kubelet", staticPod: staticPodPlan(spec, node, runImages, preloaded) }),
    podName: kubeletPodName,
    builtBy: (p) => `built by kubelet (static pod ${manifestOf(p)}, kubelet name ${kubeletPodName(p.name, p.node)})`,
    refuses: (podNetwork, field) => (podNetwork === "docker0"
        ? `${field("podRuntime")} is 'kubelet' but ${field("podNetwork")} is 'docker0', which has no CNI for kubelet's runtime to call; use podNetwork 'lab' or 'vxlan' with kubelet, or podRuntime 'docker' with docker0`
        : undefined),
};
