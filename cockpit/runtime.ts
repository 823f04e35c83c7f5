// Who built each pod (podRuntime), and in kubelet mode the address its sandbox has now. In docker mode the lab's own
// steps built the pods, and their addresses are the stack outputs'. In kubelet mode kubelet and containerd built them,
// and a new sandbox (after a node restart) gets a new address, as in Kubernetes: the stack output keeps the one the
// pod had at creation, so the verbs that send packets read the live one from the nodes.
import { contains, ipToNumber, parseCidr } from "../plan/ip";
import { kubeletPodName, STATIC_POD_DIR } from "../plan/kubelet";
import { AnyLabOutputs } from "../plan/outputs";
import { onNode, q } from "./live";
import { parseAddrs, sections } from "./parse";

type Pod = AnyLabOutputs["pods"][number];
export type Runtime = "docker" | "kubelet";

/** The pod's own `runtime`, else the lab's `podRuntime`; outputs older than kubelet mode: docker. */
export function runtimeOf(out: AnyLabOutputs, p: Pod): Runtime {
    return (p.runtime ?? out.podRuntime) === "kubelet" ? "kubelet" : "docker";
}

/** The name kubelet gave a static pod: its manifest's name and its node's (K8S_POD_NAME in the CNI calls). */
export const kubeletNameOf = (p: Pod): string => kubeletPodName(p.name, p.node);
export const manifestOf = (p: Pod): string => p.manifest ?? `${STATIC_POD_DIR}/${p.name}.yaml`;

/** One line saying what built the pod. */
export function builtBy(out: AnyLabOutputs, p: Pod): string {
    return runtimeOf(out, p) === "kubelet"
        ? `built by kubelet (static pod ${manifestOf(p)}, kubelet name ${kubeletNameOf(p)})`
        : "built by the lab's steps (docker)";
}

/** Kubelet mode: a live address other than the stack output's, which is not a fault (said, not counted as a difference). */
export function newIpNote(p: Pod, liveIp: string): string {
    return `${p.name}: a new sandbox has ${liveIp} (the stack output says ${p.ip}: kubelet mode gives a new sandbox a new IP, as Kubernetes does)`;
}

export function inSubnet(ip: string, cidr: string): boolean {
    const c = parseCidr(cidr), n = ipToNumber(ip);
    return !!c && n !== undefined && contains(c, n);
}

/** Each pod's eth0 address on one node, in sections `@pod NAME` (its namespace is named after it in both modes). */
export function liveIpScript(pods: readonly string[]): string {
    return pods.map((p) => `echo @pod ${p}; ip -n ${q(p)} -4 -o addr show dev eth0 2>/dev/null`).join("; ");
}

export function parseLiveIps(text: string): Map<string, string> {
    const ips = new Map<string, string>();
    for (const [k, v] of sections(text)) {
        const ip = parseAddrs(v)[0]?.cidr.split("/")[0];
        if (k.startsWith("pod ") && ip) { ips.set(k.slice(4), ip); }
    }
    return ips;
}

/**
 * Pure: the outputs with each kubelet-mode pod's IP replaced by its live one; a note for each that changed, or that
 * could not be read (then the stack output's is kept, and whatever probes it will say what happens). Docker-mode pods
 * are left as they are. Each note starts with its pod's name and a colon.
 */
export function applyLiveIps(out: AnyLabOutputs, live: ReadonlyMap<string, string>): { out: AnyLabOutputs; notes: string[] } {
    const notes: string[] = [];
    const pods = out.pods.map((p) => {
        if (runtimeOf(out, p) !== "kubelet") { return p; }
        const ip = live.get(p.name);
        if (!ip) {
            notes.push(`${p.name}: no live address read on ${p.node} (is its sandbox running? see status); using the stack output's ${p.ip}`);
            return p;
        }
        if (ip !== p.ip) { notes.push(newIpNote(p, ip)); }
        return { ...p, ip };
    });
    return { out: { ...out, pods }, notes };
}

/** The outputs with kubelet-mode pods' live IPs (one exec per node that has such pods; none in docker mode). */
export async function withLiveIps(out: AnyLabOutputs): Promise<{ out: AnyLabOutputs; notes: string[] }> {
    const kubelet = out.pods.filter((p) => runtimeOf(out, p) === "kubelet");
    if (!kubelet.length) { return { out, notes: [] }; }
    const live = new Map<string, string>();
    await Promise.all(out.nodes.map(async (n) => {
        const pods = kubelet.filter((p) => p.node === n.name).map((p) => p.name);
        if (!pods.length) { return; }
        const text = await onNode(n.container, liveIpScript(pods)).catch(() => "");
        for (const [pod, ip] of parseLiveIps(text)) { live.set(pod, ip); }
    }));
    return applyLiveIps(out, live);
}
