// Docker mode (config podRuntime: docker, the default): the lab builds each pod itself, in the open, through the node's
// own Docker: the pause container, the CNI ADD, then the app containers joined to its namespace (components/pod.ts).
import type { PodRuntimeDef } from "./index";

/** The node image's name (docker mode's; the other runtimes' are named after it). */
export const NODE_IMAGE_NAME = "podnet-lab/node:27.5.1";

/** Docker mode's pod plan: the sandbox and container names are the PodPlan's own (k8s_POD_<pod>, k8s_<c>_<pod>). */
export interface DockerPodPlan { readonly kind: "docker" }

export const DOCKER_RUNTIME: PodRuntimeDef<"docker"> = {
    configDescription: "the lab's explicit steps through the node's Docker (a pause container, the CNI ADD, app containers joined to its namespace)",
    choice: "the lab's explicit steps through each node's Docker",
    headline: "docker (the lab's steps)",
    // Its stage has no kubelet, so it downloads none.
    nodeImage: { name: NODE_IMAGE_NAME, target: "docker-node" },
    kubeletOnNode: false,
    // The node agent restarts a sandbox and re-wires it with the same IP.
    newSandboxNewIp: false,
    nodeSettings: () => undefined,
    podPlan: () => ({ kind: "docker" }),
    // podnet-cni passes the pod's own name as K8S_POD_NAME.
    podName: (pod) => pod,
    builtBy: () => "built by the lab's steps (docker)",
    refuses: () => undefined,
};
