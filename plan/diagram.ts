// The lab drawn like seed 004's picture, with the real names, addresses and subnets.
import { LabPlan, NodePlan } from "./plan";

const PER_ROW = 3;

function box(node: NodePlan, plan: LabPlan, width: number, podRows: number): string[] {
    const pods = plan.pods.filter((p) => p.node === node.name);
    const inner = width - 4;
    const line = (s: string) => `| ${s.padEnd(inner)} |`;
    const rule = `+${"-".repeat(width - 2)}+`;
    const bw = inner - 2;
    return [
        rule,
        line(`${node.name}  (${node.container})`),
        ...pods.map((p) => line(` pod ${p.name} ${p.ip}`)),
        ...Array.from({ length: podRows - pods.length }, () => line("")),
        line(` +${"-".repeat(bw - 2)}+`),
        line(` | bridge ${node.bridge} ${node.bridgeIp}`.padEnd(bw) + "|"),
        line(` | ${node.podCidr}`.padEnd(bw) + "|"),
        line(` +${"-".repeat(bw - 2)}+`),
        line(`LAN ${node.lanIp}`),
        rule,
    ];
}

export function renderDiagram(plan: LabPlan): string {
    const longest = Math.max(
        ...plan.nodes.map((n) => `${n.name}  (${n.container})`.length),
        ...plan.pods.map((p) => ` pod ${p.name} ${p.ip}`.length),
        ...plan.nodes.map((n) => ` | bridge ${n.bridge} ${n.bridgeIp}  |`.length),
    );
    const width = Math.max(longest + 4, 28);
    const out: string[] = [];
    for (let r = 0; r < plan.nodes.length; r += PER_ROW) {
        const nodes = plan.nodes.slice(r, r + PER_ROW);
        const podRows = Math.max(...nodes.map((n) => n.pods.length));
        const row = nodes.map((n) => box(n, plan, width, podRows));
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
    out.push(`routes (cluster range ${plan.clusterCidr}):`);
    for (const n of plan.nodes) {
        out.push(`  ${n.name}: ${n.routes.length ? n.routes.map((r) => `${r.to} via ${r.via}`).join(", ") : "(no peers)"}`);
    }
    return out.join("\n");
}
