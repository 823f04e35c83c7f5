// Who built each pod (podRuntime, plan/runtimes), and in kubelet and cluster modes the address its sandbox has now. In
// docker mode the lab's own steps built the pods, and their addresses are the stack outputs'. In kubelet and cluster
// modes kubelet and containerd built them, and a new sandbox (after a node restart) gets a new address, as in
// Kubernetes: the stack output keeps the one the pod had at creation, so the verbs that send packets read the live one
// from the nodes.
import { assertNever } from "../plan/errors";
import { contains, ipToNumber, parseCidr } from "../plan/ip";
import { AnyLabOutputs } from "../plan/outputs";
import { isPodRuntime, POD_RUNTIMES, PodRuntime, RUNTIMES } from "../plan/runtimes";
import { manifestOf } from "../plan/runtimes/kubelet";
import { CockpitError, onNode, q } from "./live";
import { parseAddrs, sections } from "./parse";

type Pod = AnyLabOutputs["pods"][number];

/** A runtime as the outputs name it; absent (outputs older than the field): docker. One this cockpit does not know is refused. */
function known(r: unknown, whose: string): PodRuntime {
    if (r === undefined) { return "docker"; }
    if (!isPodRuntime(r)) {
        throw new CockpitError(`${whose}: runtime '${String(r)}' is not one this cockpit knows (${POD_RUNTIMES.join(", ")}); use the cockpit of the program that made the lab`);
    }
    return r;
}

/** The pod's own `runtime`, else the lab's `podRuntime`; outputs older than both fields (before kubelet mode): docker. */
export function runtimeOf(out: AnyLabOutputs, p: Pod): PodRuntime {
    return known(p.runtime ?? out.podRuntime, `pod ${p.name}`);
}

/** "pods built by …" for the whole lab (its podRuntime), as the page's header says it. */
export function podRuntimeLine(out: AnyLabOutputs): string {
    return RUNTIMES[known(out.podRuntime, "the lab")].headline;
}

/** The pods as the page gets them: each with its runtime and the line saying what built it, made here, not by the page. */
export function podsWithBuiltBy(out: AnyLabOutputs): (Pod & { readonly runtime: PodRuntime; readonly builtBy: string })[] {
    return out.pods.map((p) => ({ ...p, runtime: runtimeOf(out, p), builtBy: builtBy(out, p) }));
}

/**
 * A pod as the cockpit sees it, by who built it: kubelet mode adds the name kubelet gave it and its static pod's
 * manifest; cluster mode, the name of its Pod object (kubelet's name for it too).
 */
export type PodView =
    | { readonly runtime: "docker"; readonly builtBy: string }
    | { readonly runtime: "kubelet"; readonly builtBy: string; readonly kubeletName: string; readonly manifest: string }
    | { readonly runtime: "cluster"; readonly builtBy: string; readonly kubeletName: string };

export function podView(out: AnyLabOutputs, p: Pod): PodView {
    const runtime = runtimeOf(out, p);
    const builtBy = RUNTIMES[runtime].builtBy(p);
    switch (runtime) {
        case "docker": return { runtime, builtBy };
        case "kubelet": return { runtime, builtBy, kubeletName: RUNTIMES.kubelet.podName(p.name, p.node), manifest: manifestOf(p) };
        case "cluster": return { runtime, builtBy, kubeletName: RUNTIMES.cluster.podName(p.name, p.node) };
        default: return assertNever(runtime);
    }
}

/** Its containers are containerd's (kubelet built it): the node lists them with podnet-kubelet, not its Docker. */
export function onContainerd(view: PodView): boolean {
    switch (view.runtime) {
        case "docker": return false;
        case "kubelet": case "cluster": return true;
        default: return assertNever(view);
    }
}

/** One line saying what built the pod (the server sends it to the page with each pod). */
export function builtBy(out: AnyLabOutputs, p: Pod): string {
    return RUNTIMES[runtimeOf(out, p)].builtBy(p);
}

/** The runtime's new sandboxes get new addresses: a live one other than the stack output's is a note, not a fault. */
export function ipMayChange(out: AnyLabOutputs, p: Pod): boolean {
    return RUNTIMES[runtimeOf(out, p)].newSandboxNewIp;
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
 * Pure: the outputs with the IP of each pod whose runtime gives a new sandbox a new one (kubelet mode) replaced by its
 * live one; a note for each that changed, or that could not be read (then the stack output's is kept, and whatever
 * probes it will say what happens). Docker-mode pods are left as they are. Each note starts with its pod's name and a colon.
 */
export function applyLiveIps(out: AnyLabOutputs, live: ReadonlyMap<string, string>): { out: AnyLabOutputs; notes: string[] } {
    const notes: string[] = [];
    const pods = out.pods.map((p) => {
        if (!ipMayChange(out, p)) { return p; }
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

/** The outputs with the live IPs of pods whose runtime may give them new ones (kubelet mode; one exec per node that has such pods; none in docker mode). */
export async function withLiveIps(out: AnyLabOutputs): Promise<{ out: AnyLabOutputs; notes: string[] }> {
    const moving = out.pods.filter((p) => ipMayChange(out, p));
    if (!moving.length) { return { out, notes: [] }; }
    const live = new Map<string, string>();
    await Promise.all(out.nodes.map(async (n) => {
        const pods = moving.filter((p) => p.node === n.name).map((p) => p.name);
        if (!pods.length) { return; }
        const text = await onNode(n.container, liveIpScript(pods)).catch(() => "");
        for (const [pod, ip] of parseLiveIps(text)) { live.set(pod, ip); }
    }));
    return applyLiveIps(out, live);
}
