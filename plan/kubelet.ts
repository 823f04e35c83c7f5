// Kubelet mode (config podRuntime: kubelet): each node runs containerd (CRI) and a real kubelet in standalone mode,
// and each pod is a static pod manifest on its node. Everything here is plain values: the manifests' text, names, paths.
import { STATIC_POD_DIR } from "./node-contract";
import { PodSpec, toKubernetesPod } from "./pods";

/**
 * Who builds the pods on a node.
 * `docker`: the lab's own explicit steps through the node's Docker (pause container, CNI ADD, app containers).
 * `kubelet`: a real kubelet (static pods) and containerd's CRI, which calls the same CNI configuration.
 */
export type PodRuntime = "docker" | "kubelet";
export const POD_RUNTIMES: readonly PodRuntime[] = ["docker", "kubelet"];

/** The kubelet release the node image carries (node/Dockerfile downloads it; the e2e image builds it from source). */
export const KUBELET_VERSION = "v1.34.0";
/** Where a standalone kubelet reads its static pods (--pod-manifest-path): plan/node-contract.ts's, as podnet-lib's MANIFESTS. */
export { STATIC_POD_DIR };
/** Seconds kubelet gives a removed pod's containers before it kills them; then containerd runs the CNI DEL. */
export const STATIC_POD_GRACE_SECONDS = 1;

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

/** kubelet names a static pod after its manifest and its node (pod.Name + "-" + nodeName). */
export function kubeletPodName(pod: string, node: string): string { return `${pod}-${node}`; }

/**
 * The pod's manifest as kubelet gets it: the rendered manifest (the same spec, placed on its node), with three changes
 * for a node without a registry: each container runs the image the node holds (after imageSubstitutions), kubelet
 * uses it as it is (imagePullPolicy IfNotPresent, when the lab preloads images), and a removed pod goes in
 * STATIC_POD_GRACE_SECONDS (its CNI DEL follows at once).
 */
export function staticPodManifest(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean): Record<string, unknown> {
    const pod = toKubernetesPod(spec, node) as unknown as { metadata: Record<string, unknown>; spec: { containers: Record<string, unknown>[] } & Record<string, unknown> };
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...pod.metadata, labels: { "podnet-lab/runtime": "kubelet" } },
        spec: {
            ...pod.spec,
            terminationGracePeriodSeconds: STATIC_POD_GRACE_SECONDS,
            containers: pod.spec.containers.map((c, i) => ({
                ...c, image: runImages[i] ?? c.image, ...(preloaded ? { imagePullPolicy: "IfNotPresent" } : {}),
            })),
        },
    };
}

export function staticPodPlan(spec: PodSpec, node: string, runImages: readonly string[], preloaded: boolean): StaticPodPlan {
    return {
        resourceName: `${spec.name}-static`,
        path: `${STATIC_POD_DIR}/${spec.name}.yaml`,
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

// Words YAML reads back as the same string without quotes (a ":" only inside, never before a space or at the end).
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./:-]*[A-Za-z0-9_./-]$|^[A-Za-z_/]$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
function scalar(v: unknown): string {
    if (typeof v === "number" || typeof v === "boolean") { return String(v); }
    const s = String(v);
    return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** YAML for plain data (objects, arrays, strings, numbers, booleans), block style, as kubectl prints manifests. */
export function toYaml(value: unknown): string { return `${yamlLines(value, "").join("\n")}\n`; }

function yamlLines(value: unknown, indent: string): string[] {
    const isBlock = (v: unknown) => typeof v === "object" && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
    const inline = (v: unknown) => (Array.isArray(v) ? "[]" : typeof v === "object" && v !== null ? "{}" : scalar(v));
    const lines: string[] = [];
    if (Array.isArray(value)) {
        for (const item of value) {
            if (!isBlock(item)) { lines.push(`${indent}- ${inline(item)}`); continue; }
            // A list item that is a map starts on the dash's line: "- name: web".
            const inner = yamlLines(item, `${indent}  `);
            if (Array.isArray(item)) { lines.push(`${indent}-`, ...inner); } else { lines.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1)); }
        }
    } else if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            if (v === undefined) { continue; }
            if (!isBlock(v)) { lines.push(`${indent}${scalar(k)}: ${inline(v)}`); continue; }
            // Lists sit at their key's indentation, as kubectl writes them.
            lines.push(`${indent}${scalar(k)}:`, ...yamlLines(v, Array.isArray(v) ? indent : `${indent}  `));
        }
    } else {
        lines.push(`${indent}${scalar(value)}`);
    }
    return lines;
}
