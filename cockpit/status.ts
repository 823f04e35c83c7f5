// `status`: nodes, bridges, routes and pods as declared (the stack outputs) and as they are live on the nodes;
// every difference is named. One `docker exec` per node. Each pod's containers come from whoever built it: the node's
// Docker (podRuntime docker) or containerd (kubelet and cluster modes, through podnet-kubelet), keyed per pod. In cluster
// mode the API server's view of each pod (its IP, as kubelet reported it) is read once, from the control plane.
import { assertNever } from "../plan/errors";
import { AnyLabOutputs } from "../plan/outputs";
import { PodRuntime } from "../plan/runtimes";
import { hostDocker, onNode, q } from "./live";
import { Link, parseAddrs, parseLinks, parseRouteGet, sections } from "./parse";
import { inSubnet, ipMayChange, newIpNote, onContainerd, PodView, podView } from "./runtime";

export interface NodeStatus {
    name: string; container: string; running: boolean; agent: string;
    bridge: { name: string; address?: string; up: boolean };
    routes: { to: string; via: string; dev?: string; remote?: string; present: boolean }[];
    /** The overlay's VXLAN device (podNetwork vxlan): there and up? */
    vxlan?: { device: string; up: boolean };
}
export interface PodStatus {
    name: string; node: string; ip: string; liveIp?: string; sandbox: string; sandboxState: string;
    containers: { name: string; state: string }[]; veth?: string;
    /** Who built it, and in a sentence (kubelet mode: its static pod's manifest and the name kubelet gave it). */
    runtime: PodRuntime; builtBy: string; kubeletName?: string; manifest?: string;
    /** Cluster mode: the IP the API server has for the pod now (status.podIP, which kubelet reports), when it answered. */
    apiIp?: string;
}
/** `notes`: what is worth seeing but not a fault (kubelet mode: a new sandbox's new IP); only `differences` make status unclean. */
export interface Status { nodes: NodeStatus[]; pods: PodStatus[]; differences: string[]; notes: string[]; }

/**
 * What one node reports about itself, in sections (see `parseNodeReport`). `kubelet`: the node's pods are kubelet's
 * (their containers from containerd, and whether each static pod's manifest is there), else the node's Docker's.
 */
export function nodeScript(bridge: string, pods: readonly string[], kubelet?: { node: string; manifests: readonly string[]; cluster?: boolean }): string {
    const containers = kubelet
        ? [...pods.map((p) => `echo @kubelet ${p}; podnet-kubelet containers ${q(p)} ${q(kubelet.node)} 2>/dev/null`),
            ...(kubelet.manifests.length ? [`echo @manifests; ls -1d ${kubelet.manifests.map(q).join(" ")} 2>/dev/null`] : [])]
        : [`echo @containers; docker ps -a --format '{{.Names}} {{.State}}'`];
    return [
        `echo @addr; ip -4 -o addr show dev ${q(bridge)} 2>/dev/null`,
        `echo @bridgelink; ip -o link show ${q(bridge)} 2>/dev/null`,
        "echo @routes; ip -4 route",
        "echo @links; ip -o link show",
        ...containers,
        ...(kubelet?.cluster ? ["echo @system; podnet-kubelet system-pods 2>/dev/null"] : []),
        "echo @agent; podnet-node-agent status 2>/dev/null || echo unknown",
        ...pods.map((p) => `echo @pod ${p}; ip -n ${q(p)} -4 -o addr show dev eth0 2>/dev/null; ip -n ${q(p)} -o link show dev eth0 2>/dev/null`),
    ].join("; ");
}

export interface NodeReport {
    bridgeAddrs: string[]; bridgeUp: boolean; routes: string[]; links: Link[];
    /** Docker mode: the node's Docker containers by name (unique: k8s_<container>_<pod>) and their state. */
    containers: Map<string, string>;
    /** Kubelet mode: per pod, its running containers by name (POD: the sandbox), as containerd lists them. */
    kubelet?: Map<string, Set<string>>;
    /** Kubelet mode: the static pod manifests that are there. */
    manifests?: Set<string>;
    agent: string; pods: Map<string, { ip?: string; peerIndex?: number }>;
    /** Cluster mode: the cluster's own pods on the node (CoreDNS), by the index of their veth's host end. */
    system?: Map<number, string>;
}

export function parseNodeReport(text: string): NodeReport {
    const s = sections(text);
    const pods = new Map<string, { ip?: string; peerIndex?: number }>();
    const kubelet = new Map<string, Set<string>>();
    const lines = (v: string | undefined) => (v ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
    for (const [k, v] of s) {
        if (k.startsWith("pod ")) { pods.set(k.slice(4), { ip: parseAddrs(v)[0]?.cidr.split("/")[0], peerIndex: parseLinks(v)[0]?.peerIndex }); }
        if (k.startsWith("kubelet ")) { kubelet.set(k.slice(8), new Set(lines(v).map((l) => l.split(" ")[0]))); }
    }
    return {
        bridgeAddrs: parseAddrs(s.get("addr") ?? "").map((a) => a.cidr),
        bridgeUp: parseLinks(s.get("bridgelink") ?? "")[0]?.up ?? false,
        routes: (s.get("routes") ?? "").split("\n").filter(Boolean),
        links: parseLinks(s.get("links") ?? ""),
        containers: new Map(lines(s.get("containers")).map((l) => l.split(" ") as [string, string])),
        ...(s.has("manifests") || kubelet.size ? { kubelet, manifests: new Set(lines(s.get("manifests"))) } : {}),
        agent: (s.get("agent") ?? "").trim() || "unknown",
        pods,
        ...(s.has("system") ? { system: new Map(lines(s.get("system")).map((l) => { const [pod, index] = l.split(" "); return [Number(index), pod] as [number, string]; })) } : {}),
    };
}

/**
 * What the node's report says of one pod, as its runtime built it: each container's state, by its Docker name (docker
 * mode) or its name in the pod (kubelet mode: containerd's, POD is the sandbox), and what else the runtime must have.
 */
function seenOnNode(view: PodView, pod: string, node: string, r: NodeReport): { state(dockerName: string, inPod: string): string; differences: string[] } {
    switch (view.runtime) {
        case "docker": return { state: (dockerName) => r.containers.get(dockerName) ?? "missing", differences: [] };
        case "kubelet": return {
            state: (_dockerName, inPod) => (r.kubelet?.get(pod)?.has(inPod) ? "running" : "not running"),
            differences: r.manifests?.has(view.manifest) ? [] : [`${pod}: its static pod manifest ${view.manifest} is not on ${node}`],
        };
        case "cluster": return { state: (_dockerName, inPod) => (r.kubelet?.get(pod)?.has(inPod) ? "running" : "not running"), differences: [] };
        default: return assertNever(view);
    }
}

/** The node's static pod manifests (kubelet mode), which its report lists; none: its pods are its Docker's. */
function manifestsOf(views: readonly PodView[]): string[] {
    return views.flatMap((v) => {
        switch (v.runtime) {
            case "docker": return [];
            case "kubelet": return [v.manifest];
            case "cluster": return [];
            default: return assertNever(v);
        }
    });
}

/** Declared vs live, for one node and its pods, with every difference named. Pure. */
/**
 * Cluster mode: what the API server says of the lab's pods (namespace default), by name: the IP kubelet reported for
 * each, "" for one without an IP yet. Undefined when the lab has no control plane or it did not answer.
 */
export type ApiPods = ReadonlyMap<string, string> | undefined;

export function compare(out: AnyLabOutputs, node: AnyLabOutputs["nodes"][number], running: boolean, r: NodeReport | undefined, api?: ApiPods): { node: NodeStatus; pods: PodStatus[]; differences: string[]; notes: string[] } {
    const diffs: string[] = [];
    const prefix = node.podCidr.split("/")[1];
    const routes = node.routes.map((rt) => ({
        ...rt, present: !!r?.routes.some((l) => { const g = parseRouteGet(l); return g?.dst === rt.to && g.via === rt.via; }),
    }));
    const bridgeAddr = r?.bridgeAddrs[0];
    const vxlan = node.vxlan && { device: node.vxlan.device, up: !!r?.links.find((l) => l.name === node.vxlan?.device)?.up };
    if (!running) { diffs.push(`${node.name}: the node container ${node.container} is not running`); }
    if (r) {
        if (bridgeAddr !== `${node.bridgeIp}/${prefix}`) { diffs.push(`${node.name}: bridge ${node.bridge} has ${bridgeAddr ?? "no address"}, declared ${node.bridgeIp}/${prefix}`); }
        if (!r.bridgeUp) { diffs.push(`${node.name}: bridge ${node.bridge} is down or missing`); }
        for (const rt of routes) { if (!rt.present) { diffs.push(`${node.name}: route ${rt.to} via ${rt.via}${rt.dev ? ` dev ${rt.dev}` : ""} is missing`); } }
        if (vxlan && !vxlan.up) { diffs.push(`${node.name}: VXLAN device ${vxlan.device} is down or missing`); }
        if (r.agent.startsWith("paused")) { diffs.push(`${node.name}: its node agent is ${r.agent} (nothing is repaired)`); }
    }
    const notes: string[] = [];
    const pods: PodStatus[] = out.pods.filter((p) => p.node === node.name).map((p) => {
        const live = r?.pods.get(p.name);
        const veth = live?.peerIndex !== undefined ? r?.links.find((l) => l.index === live.peerIndex) : undefined;
        const view = podView(out, p);
        const seen = r && seenOnNode(view, p.name, node.name, r);
        const state = (dockerName: string, inPod: string) => seen?.state(dockerName, inPod) ?? "unknown";
        const st: PodStatus = {
            name: p.name, node: p.node, ip: p.ip, liveIp: live?.ip, sandbox: p.sandbox, sandboxState: state(p.sandbox, "POD"),
            containers: p.containers.map((c) => ({ name: c.name, state: state(c.container, c.name) })), veth: veth?.name,
            ...view,
            ...(api?.get(p.name) ? { apiIp: api.get(p.name) } : {}),
        };
        // Cluster mode: the API server's view of the pod against the node's.
        if (api && !api.has(p.name)) { diffs.push(`${p.name}: the API server has no Pod default/${p.name}`); }
        else if (api && r && live?.ip && st.apiIp !== live.ip) { diffs.push(`${p.name}: the API server says ${st.apiIp || "no IP"}, eth0 has ${live.ip}`); }
        if (r) {
            diffs.push(...seen?.differences ?? []);
            if (st.sandboxState !== "running") { diffs.push(`${p.name}: sandbox ${p.sandbox} is ${st.sandboxState}`); }
            for (const c of st.containers) { if (c.state !== "running") { diffs.push(`${p.name}: container ${c.name} is ${c.state}`); } }
            if (live?.ip !== p.ip) {
                // Kubelet mode: a new sandbox's new address, in the node's pod subnet, is no fault (the output has the first one).
                if (!ipMayChange(out, p) || !live?.ip) { diffs.push(`${p.name}: eth0 has ${live?.ip ?? "no address"}, declared ${p.ip}`); }
                else if (!inSubnet(live.ip, node.podCidr)) { diffs.push(`${p.name}: eth0 has ${live.ip}, outside ${node.name}'s pod subnet ${node.podCidr}`); }
                else { notes.push(newIpNote(p, live.ip)); }
            }
            if (!veth) { diffs.push(`${p.name}: no veth on ${node.name}`); }
            else if (veth.master !== node.bridge) { diffs.push(`${p.name}: its veth ${veth.name} is not on ${node.bridge}`); }
        }
        return st;
    });
    if (r) {
        const owned = new Set(pods.map((p) => p.veth).filter(Boolean));
        for (const l of r.links) {
            if (l.master !== node.bridge || owned.has(l.name)) { continue; }
            // Cluster mode: a pod the cluster runs itself (CoreDNS, in kube-system) is on the bridge too: the cluster
            // declared it, not the lab's pod folder; it is no difference.
            if (!r.system?.has(l.index)) { diffs.push(`${node.name}: veth ${l.name} on ${node.bridge} belongs to no pod`); }
        }
    }
    return {
        node: { name: node.name, container: node.container, running, agent: r?.agent ?? "unknown", bridge: { name: node.bridge, address: bridgeAddr, up: !!r?.bridgeUp }, routes,
            ...(vxlan ? { vxlan } : {}) },
        pods, differences: diffs, notes,
    };
}

export async function status(out: AnyLabOutputs): Promise<Status> {
    const api = await apiPods(out);
    const per = await Promise.all(out.nodes.map(async (n) => {
        const running = hostDocker("inspect", "-f", "{{.State.Running}}", n.container) === "true";
        const mine = out.pods.filter((p) => p.node === n.name);
        const views = mine.map((p) => podView(out, p));
        const kubelet = views.some(onContainerd) ? { node: n.name, manifests: manifestsOf(views), cluster: out.podRuntime === "cluster" } : undefined;
        const report = running ? parseNodeReport(await onNode(n.container, nodeScript(n.bridge, mine.map((p) => p.name), kubelet))) : undefined;
        return compare(out, n, running, report, api.pods);
    }));
    return { nodes: per.map((p) => p.node), pods: per.flatMap((p) => p.pods), differences: per.flatMap((p) => p.differences), notes: [...api.notes, ...per.flatMap((p) => p.notes)] };
}

/** The `kubectl get pods` the control plane answers, as its own admin (one exec into the control plane container). */
export function apiPodsScript(): string {
    return "kubectl --kubeconfig /etc/kubernetes/admin.conf -n default get pods -o json";
}

/** Pure: kubectl's JSON -> each pod's IP as the API server has it ("" for none yet). */
export function parseApiPods(json: string): Map<string, string> {
    const items = (JSON.parse(json) as { items?: { metadata: { name: string }; status?: { podIP?: string } }[] }).items ?? [];
    return new Map(items.map((i) => [i.metadata.name, i.status?.podIP ?? ""]));
}

/** Cluster mode: the API server's pods; a note (not a difference) when the control plane does not answer (K4: the pods do not need it). */
async function apiPods(out: AnyLabOutputs): Promise<{ pods: ApiPods; notes: string[] }> {
    const cp = out.controlPlane;
    if (!cp) { return { pods: undefined, notes: [] }; }
    try {
        return { pods: parseApiPods(await onNode(cp.container, apiPodsScript())), notes: [] };
    } catch {
        return { pods: undefined, notes: [`the control plane ${cp.container} did not answer, so the API server's view of the pods is not compared (the pods do not need it to run)`] };
    }
}
