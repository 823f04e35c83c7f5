// `trace SRC DST`: the path of one packet, hop by hop, read from live state: `ip route get` in the source pod's
// namespace, on its node (as if it came in on the pod's veth), on the peer node (as if it came in from the LAN),
// and the veth and bridge each hop uses. Drawn like seed 004's picture.
import { AnyLabOutputs } from "../plan/outputs";
import { LAN_MTU, VXLAN_OVERHEAD } from "../plan/plan";
import { CockpitError, onNode, q } from "./live";
import { parseLinks, parseRouteGet, RouteGet, sections } from "./parse";
import { withLiveIps } from "./runtime";

export interface Hop { at: string; what: string; interface?: string; address?: string; detail: string; }

type Pod = AnyLabOutputs["pods"][number];
type NodeOut = AnyLabOutputs["nodes"][number];

/** Route lookups and the pod's veth, on one node, in one exec. */
function lookupScript(pod: string | undefined, dst: string, src: string, iif: string): string {
    return [
        ...(pod ? [
            `echo @podroute; ip -n ${q(pod)} route get ${q(dst)}`,
            `echo @podlink; ip -n ${q(pod)} -o link show dev eth0`,
            "echo @links; ip -o link show",
        ] : ["echo @links; ip -o link show"]),
        iif === "veth" && pod
            ? `echo @noderoute; veth=$(ip -o link show | awk -v i="$(ip -n ${q(pod)} -o link show dev eth0 | sed -n 's/.*@if\\([0-9]*\\).*/\\1/p')" -F': ' '$1==i {split($2,a,"@"); print a[1]}'); ip route get ${q(dst)} from ${q(src)} iif "$veth"`
            : `echo @noderoute; ip route get ${q(dst)} from ${q(src)} iif ${q(iif)}`,
    ].join("; ");
}

/** `notes`: kubelet mode, pods traced at another address than the stack output's (a new sandbox's). */
export interface TraceView {
    from: Pod; to: Pod | { name: string; ip: string }; hops: Hop[]; verdict: string; notes?: string[];
    /** A trace to a Service: its name, and the pod kube-proxy chose (when the request made a conntrack entry). */
    service?: string; endpoint?: string;
}

/** A trace as JSON, for `trace --json` and the page's /api/trace alike. */
export function traceJson(t: TraceView) {
    return {
        from: t.from.name, to: t.to.name, fromIp: t.from.ip, toIp: t.to.ip, hops: t.hops, verdict: t.verdict, notes: t.notes ?? [],
        ...(t.service !== undefined ? { service: t.service } : {}), ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}),
    };
}

/** The path between two pods, or a pod and the outside host; in kubelet mode between their live addresses. */
export async function trace(declared: AnyLabOutputs, srcName: string, dstName: string): Promise<TraceView> {
    if (!declared.pods.some((p) => p.name === srcName)) { throw new CockpitError(`trace: no pod ${srcName}; pods: ${declared.pods.map((p) => p.name).join(", ")}`); }
    const { out, notes } = await withLiveIps(declared);
    const mine = notes.filter((n) => n.startsWith(`${srcName}: `) || n.startsWith(`${dstName}: `));
    return { ...(await traceAt(out, srcName, dstName)), notes: mine };
}

async function traceAt(out: AnyLabOutputs, srcName: string, dstName: string): Promise<TraceView> {
    const src = out.pods.find((p) => p.name === srcName);
    if (!src) { throw new CockpitError(`trace: no pod ${srcName}; pods: ${out.pods.map((p) => p.name).join(", ")}`); }
    const dstPod = out.pods.find((p) => p.name === dstName);
    const dst = dstPod ?? (dstName === out.outside.name ? { name: out.outside.name, ip: out.outside.ip } : undefined);
    if (!dst) { throw new CockpitError(`trace: no pod or outside host named ${dstName}; pods: ${out.pods.map((p) => p.name).join(", ")}, outside host: ${out.outside.name}`); }
    const node = (name: string) => out.nodes.find((n) => n.name === name) as NodeOut;
    const a = node(src.node);
    const first = sections(await onNode(a.container, lookupScript(src.name, dst.ip, src.ip, "veth")));
    const hops: Hop[] = [];
    const podRoute = parseRouteGet(first.get("podroute") ?? "");
    const peerIndex = parseLinks(first.get("podlink") ?? "")[0]?.peerIndex;
    const links = parseLinks(first.get("links") ?? "");
    const veth = links.find((l) => l.index === peerIndex);
    hops.push({ at: `pod ${src.name}`, what: "leaves", interface: "eth0", address: src.ip, detail: routeText(podRoute) });
    hops.push({ at: a.name, what: "veth", interface: veth?.name ?? "?", detail: veth?.master ? `on bridge ${veth.master} (${a.bridgeIp})` : "on no bridge" });
    const nodeRoute = parseRouteGet(first.get("noderoute") ?? "");
    hops.push({ at: a.name, what: "routes", interface: nodeRoute?.dev, detail: routeText(nodeRoute) });
    let verdict: string;
    if (!nodeRoute || nodeRoute.type === "unreachable") {
        verdict = `dropped on ${a.name}: no route to ${dst.ip}`;
    } else if (nodeRoute.dev === a.bridge) {
        const b = dstPod && dstPod.node === a.name ? dstPod : undefined;
        const bveth = b ? await podVeth(a, b) : undefined;
        hops.push({ at: a.name, what: "bridge", interface: a.bridge, detail: `to ${bveth ?? "a veth"} (same node)` });
        hops.push({ at: `pod ${dst.name}`, what: "arrives", interface: "eth0", address: dst.ip, detail: "source unchanged" });
        verdict = "same node: through the bridge, no routing between nodes, no NAT";
    } else if (a.vxlan && nodeRoute.dev === a.vxlan.device) {
        verdict = await overlayHops(out, a, nodeRoute, src, dst, dstPod, hops);
    } else {
        const peer = out.nodes.find((n) => n.lanIp === nodeRoute.via);
        const nat = !dstPod ? " (masqueraded behind the node's LAN address: the destination is outside the cluster range)" : "";
        // (A pod's address is never masqueraded: the cluster range RETURNs before the MASQUERADE rule.)
        hops.push({ at: `LAN ${out.lan.network}`, what: "crosses", interface: nodeRoute.dev, address: `${a.lanIp} -> ${nodeRoute.via ?? dst.ip}`, detail: `${peer ? `to ${peer.name}` : "to the next hop"}${nat}` });
        if (peer && dstPod) {
            const second = sections(await onNode(peer.container, lookupScript(undefined, dst.ip, src.ip, "eth0")));
            const r2 = parseRouteGet(second.get("noderoute") ?? "");
            hops.push({ at: peer.name, what: "routes", interface: r2?.dev, detail: routeText(r2) });
            const bveth = await podVeth(peer, dstPod);
            hops.push({ at: peer.name, what: "bridge", interface: peer.bridge, detail: `to ${bveth ?? "?"}` });
            hops.push({ at: `pod ${dst.name}`, what: "arrives", interface: "eth0", address: dst.ip, detail: "source unchanged: no NAT inside the cluster range" });
            verdict = `across nodes: ${a.name} routes ${peer.podCidr} via ${peer.lanIp}; no NAT`;
        } else if (dstPod) {
            hops.push({ at: `pod ${dst.name}`, what: "LOST", address: dst.ip, detail: `${nodeRoute.via ?? "the next hop"} is not a node: it has no route to ${dst.ip}` });
            verdict = `lost: ${a.name} has no route to ${dstPod.node}'s pod subnet, so the packet goes to ${nodeRoute.via ?? "its default route"} instead (is the route there? status)`;
        } else {
            hops.push({ at: dst.name, what: "arrives", address: dst.ip, detail: `source ${a.lanIp} (masqueraded)` });
            verdict = "outside the cluster: masqueraded behind the node's LAN address";
        }
    }
    return { from: src, to: dst, hops, verdict };
}

/**
 * The overlay's hops (podNetwork vxlan): the route sends the packet into the VXLAN device; the neighbour entry gives
 * the peer VTEP's MAC, the FDB the LAN IP behind it; the frame crosses the LAN inside UDP and comes out of the
 * peer's VXLAN device. Read live: the neighbour and FDB entries on this node, the route on the peer.
 */
async function overlayHops(out: AnyLabOutputs, a: NodeOut, nodeRoute: RouteGet, src: Pod, dst: { name: string; ip: string }, dstPod: Pod | undefined, hops: Hop[]): Promise<string> {
    const v = a.vxlan as NonNullable<NodeOut["vxlan"]>;
    const via = nodeRoute.via ?? "?";
    const live = sections(await onNode(a.container, `echo @neigh; ip neigh show ${q(via)} dev ${q(v.device)}; echo @fdb; bridge fdb show dev ${q(v.device)}`));
    const mac = /lladdr (\S+)/.exec(live.get("neigh") ?? "")?.[1];
    const remote = mac ? new RegExp(`^${mac} dst (\\S+)`, "m").exec(live.get("fdb") ?? "")?.[1] : undefined;
    hops.push({ at: a.name, what: "encaps", interface: v.device, address: `VTEP ${v.vtepIp} -> ${via}`,
        detail: mac ? `neighbour ${via} is ${mac}; fdb: ${mac} is behind ${remote ?? "? (no fdb entry)"}` : `no neighbour entry for ${via}: nothing to send to` });
    const peer = out.nodes.find((n) => n.lanIp === remote);
    if (!remote || !peer) {
        hops.push({ at: `pod ${dst.name}`, what: "LOST", address: dst.ip, detail: `${v.device} does not know where ${via} is` });
        return `lost on ${a.name}: the overlay has no neighbour or FDB entry for ${via} (is the peer there? status)`;
    }
    hops.push({ at: `LAN ${out.lan.network}`, what: "crosses", interface: "eth0", address: `${a.lanIp} -> ${remote}`,
        detail: `outer: UDP ${v.port}, VXLAN VNI ${v.vni}; inner: ${src.ip} -> ${dst.ip}, unchanged. Pod MTU ${v.mtu}: the LAN's ${LAN_MTU} less ${VXLAN_OVERHEAD} bytes of outer IP, UDP, VXLAN and inner Ethernet headers` });
    hops.push({ at: peer.name, what: "decaps", interface: peer.vxlan?.device ?? v.device, detail: `VNI ${v.vni} on UDP ${v.port}: the inner packet comes out of ${peer.vxlan?.device ?? v.device}` });
    if (!dstPod) { return `sent over the overlay to ${peer.name}, which is not where ${dst.ip} lives`; }
    const second = sections(await onNode(peer.container, lookupScript(undefined, dst.ip, src.ip, peer.vxlan?.device ?? v.device)));
    const r2 = parseRouteGet(second.get("noderoute") ?? "");
    hops.push({ at: peer.name, what: "routes", interface: r2?.dev, detail: routeText(r2) });
    const bveth = await podVeth(peer, dstPod);
    hops.push({ at: peer.name, what: "bridge", interface: peer.bridge, detail: `to ${bveth ?? "?"}` });
    hops.push({ at: `pod ${dst.name}`, what: "arrives", interface: "eth0", address: dst.ip, detail: "source unchanged: no NAT inside the cluster range" });
    return `across nodes over the overlay: ${a.name} sends ${peer.podCidr} into ${v.device}, which wraps it in UDP ${v.port} to ${peer.lanIp}; no NAT`;
}

async function podVeth(n: NodeOut, p: Pod): Promise<string | undefined> {
    const s = sections(await onNode(n.container, `echo @podlink; ip -n ${q(p.name)} -o link show dev eth0; echo @links; ip -o link show`));
    const idx = parseLinks(s.get("podlink") ?? "")[0]?.peerIndex;
    return parseLinks(s.get("links") ?? "").find((l) => l.index === idx)?.name;
}

function routeText(r: RouteGet | undefined): string {
    if (!r) { return "no route"; }
    return `route: ${r.type ? `${r.type} ` : ""}${r.dst}${r.via ? ` via ${r.via}` : ""}${r.dev ? ` dev ${r.dev}` : ""}${r.src ? ` src ${r.src}` : ""}`;
}

export function renderTrace(t: TraceView): string {
    const notes = (t.notes ?? []).map((n) => `  note: ${n}`);
    const rows = t.hops.map((h, i) => `  ${String(i + 1).padStart(2)}  ${h.at.padEnd(22)} ${h.what.padEnd(8)} ${(h.interface ?? "").padEnd(13)} ${(h.address ?? "").padEnd(28)} ${h.detail}`.trimEnd());
    return [`trace ${t.from.name} (${t.from.ip}) -> ${t.to.name} (${t.to.ip})`, ...notes, ...rows, `  => ${t.verdict}`].join("\n");
}
