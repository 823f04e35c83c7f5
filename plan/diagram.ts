// The lab drawn like seed 004's picture, with the real names, subnets and the pod IPs the nodes handed out.
import { LAN_MTU, VXLAN_OVERHEAD } from "./plan";

/** What the picture needs: the plan has it, and so do a running lab's stack outputs (the cockpit's `diagram`). */
export interface DiagramInput {
    readonly nodes: readonly DiagramNode[];
    readonly pods: readonly { readonly name: string }[];
    readonly lan: { readonly network: string; readonly cidr: string; readonly gateway: string };
    readonly clusterCidr: string;
    readonly podNetwork?: string;
    readonly pending: readonly { readonly name: string; readonly reason: string }[];
}
interface DiagramNode {
    readonly name: string; readonly container: string; readonly lanIp: string; readonly podCidr: string;
    readonly bridge: string; readonly bridgeIp: string;
    /** Routed: via the peer's LAN IP. Overlay: via the peer's VTEP on `dev`, in UDP to `remote` (the peer's LAN IP). */
    readonly routes: readonly { readonly to: string; readonly via: string; readonly dev?: string; readonly remote?: string }[];
    readonly vxlan?: { readonly device: string; readonly vni: number; readonly port: number; readonly vtepIp: string; readonly mtu: number };
    readonly pods: readonly string[];
}

const PER_ROW = 3;

/** Pod name -> IP, as the CNI ADDs reported them. */
export type PodIps = Readonly<Record<string, string>>;

const podLine = (name: string, ips: PodIps) => ` pod ${name} ${ips[name] ?? "(no IP yet)"}`;

function box(node: DiagramNode, ips: PodIps, width: number, podRows: number): string[] {
    const inner = width - 4;
    const line = (s: string) => `| ${s.padEnd(inner)} |`;
    const rule = `+${"-".repeat(width - 2)}+`;
    const bw = inner - 2;
    return [
        rule,
        line(`${node.name}  (${node.container})`),
        ...node.pods.map((p) => line(podLine(p, ips))),
        ...Array.from({ length: podRows - node.pods.length }, () => line("")),
        line(` +${"-".repeat(bw - 2)}+`),
        line(` | bridge ${node.bridge} ${node.bridgeIp}`.padEnd(bw) + "|"),
        line(` | ${node.podCidr}`.padEnd(bw) + "|"),
        line(` +${"-".repeat(bw - 2)}+`),
        line(`LAN ${node.lanIp}`),
        rule,
    ];
}

/** One route as `ip route` would show it, plus where an overlay route's packets really go. */
export function routeText(r: DiagramNode["routes"][number]): string {
    return `${r.to} via ${r.via}${r.dev ? ` dev ${r.dev}` : ""}${r.remote ? ` -> UDP to ${r.remote}` : ""}`;
}

/** Which model the lab is in, in one line. */
export function podNetworkLine(plan: { readonly podNetwork?: string; readonly nodes: readonly Pick<DiagramNode, "podCidr" | "vxlan">[] }): string {
    const v = plan.nodes[0]?.vxlan;
    if (plan.podNetwork === "docker0") {
        return `pod network: docker0, the "before" state (S6): every node hands out the same ${plan.nodes[0]?.podCidr ?? ""} addresses and no node routes to another's pods`;
    }
    if (plan.podNetwork === "vxlan" && v) {
        return `pod network: overlay (seed 002), VXLAN: each node's ${v.device} (VNI ${v.vni}, UDP ${v.port}) wraps a pod's packet for another node in UDP between the nodes' LAN IPs; pod MTU ${v.mtu} (the LAN's ${LAN_MTU} less ${VXLAN_OVERHEAD} bytes of VXLAN)`;
    }
    return "pod network: routed (seed 004): each node routes every peer's pod subnet via that peer's LAN IP; packets cross the LAN as they are";
}

export function renderDiagram(plan: DiagramInput, ips: PodIps): string {
    const longest = Math.max(
        ...plan.nodes.map((n) => `${n.name}  (${n.container})`.length),
        ...plan.pods.map((p) => podLine(p.name, ips).length),
        ...plan.nodes.map((n) => ` | bridge ${n.bridge} ${n.bridgeIp}  |`.length),
    );
    const width = Math.max(longest + 4, 28);
    const out: string[] = [];
    for (let r = 0; r < plan.nodes.length; r += PER_ROW) {
        const nodes = plan.nodes.slice(r, r + PER_ROW);
        const podRows = Math.max(...nodes.map((n) => n.pods.length));
        const row = nodes.map((n) => box(n, ips, width, podRows));
        for (let i = 0; i < row[0].length; i++) {
            out.push(row.map((b) => b[i]).join("  ").trimEnd());
        }
        out.push(row.map(() => "|".padStart(Math.floor(width / 2) + 1).padEnd(width)).join("  ").trimEnd());
    }
    const lanLabel = ` LAN ${plan.lan.network} ${plan.lan.cidr} (gateway ${plan.lan.gateway}) `;
    const span = Math.max(Math.min(plan.nodes.length, PER_ROW) * (width + 2) - 2, lanLabel.length + 4);
    const left = Math.floor((span - lanLabel.length) / 2);
    out.push("-".repeat(left) + lanLabel + "-".repeat(span - left - lanLabel.length));
    out.push("");
    out.push(podNetworkLine(plan));
    out.push(`routes (cluster range ${plan.clusterCidr}):`);
    for (const n of plan.nodes) {
        out.push(`  ${n.name}: ${n.routes.length ? n.routes.map(routeText).join(", ") : "(no peers)"}`);
    }
    for (const p of plan.pending) {
        out.push(`pending (not run): ${p.name}: ${p.reason}`);
    }
    return out.join("\n");
}
