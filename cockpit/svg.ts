// The lab as an SVG picture, seed-004 style: nodes with their bridges and pods, the LAN, the routes, the outside
// host, and the last matrix drawn as a grid (green: reached without NAT; amber: masqueraded; red: not reached,
// or answered by the wrong pod). Pure: the same inputs give the same picture.
import { podNetworkLine, routeText } from "../plan/diagram";
import { Pair } from "./matrix";
import { Outputs } from "./live";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
export const COLORS = { ok: "#2e9e44", masq: "#e0a100", fail: "#d62828", none: "#cccccc" } as const;

export function pairColor(p: Pair | undefined): string {
    if (!p) { return COLORS.none; }
    if (!p.reached || p.answeredBy) { return COLORS.fail; }
    return p.nat ? COLORS.masq : COLORS.ok;
}

export function renderSvg(out: Outputs, pairs: readonly Pair[] | undefined): string {
    const W = 250, G = 30, M = 20;
    const rows = Math.max(1, ...out.nodes.map((n) => out.pods.filter((p) => p.node === n.name).length));
    const routeRows = Math.max(1, ...out.nodes.map((n) => n.routes.length));
    const nodeH = 100 + rows * 18 + routeRows * 13;
    const width = Math.max(M * 2 + out.nodes.length * W + (out.nodes.length - 1) * G, out.podNetwork === "vxlan" ? 1100 : 560);
    const lanY = M + 30 + nodeH + 40;
    const el: string[] = [];
    const text = (x: number, y: number, s: string, extra = "") => el.push(`<text x="${x}" y="${y}" ${extra}>${esc(s)}</text>`);
    text(M, M + 10, `podnet-lab: ${out.nodes.length} nodes, cluster range ${out.clusterCidr}; ${podNetworkLine(out).replace(/^pod network: /, "")}`, `font-weight="bold"`);
    out.nodes.forEach((n, i) => {
        const x = M + i * (W + G), y = M + 30;
        el.push(`<rect x="${x}" y="${y}" width="${W}" height="${nodeH}" rx="8" fill="#f4f6fb" stroke="#36c"/>`);
        text(x + 10, y + 20, `${n.name}  (LAN ${n.lanIp})`, `font-weight="bold"`);
        out.pods.filter((p) => p.node === n.name).forEach((p, k) => {
            el.push(`<rect x="${x + 10}" y="${y + 30 + k * 18}" width="${W - 20}" height="15" rx="3" fill="#fff" stroke="#999"/>`);
            text(x + 16, y + 42 + k * 18, `pod ${p.name}  ${p.ip}`);
        });
        const by = y + 40 + rows * 18;
        el.push(`<rect x="${x + 10}" y="${by}" width="${W - 20}" height="34" rx="4" fill="#e3ecff" stroke="#36c"/>`);
        text(x + 16, by + 14, `bridge ${n.bridge} ${n.bridgeIp}`);
        text(x + 16, by + 28, n.podCidr);
        (n.routes.length ? n.routes.map((r) => `route ${routeText(r)}`) : ["no routes (no peers)"])
            .forEach((line, k) => text(x + 12, by + 52 + k * 13, line, `font-size="10"`));
        el.push(`<line x1="${x + W / 2}" y1="${y + nodeH}" x2="${x + W / 2}" y2="${lanY}" stroke="#36c" stroke-width="2"/>`);
    });
    el.push(`<line x1="${M}" y1="${lanY}" x2="${width - M}" y2="${lanY}" stroke="#36c" stroke-width="4"/>`);
    text(M, lanY + 18, `LAN ${out.lan.network} ${out.lan.cidr} (gateway ${out.lan.gateway})`);
    text(width - M - 230, lanY + 18, `outside host ${out.outside.name} ${out.outside.ip}`);
    let y = lanY + 50;
    const names = out.pods.map((p) => p.name);
    const targets = [...names, out.outside.name];
    const cell = 22, left = M + 130;
    if (pairs) {
        text(M, y, "last matrix (row: from, column: to): green reached without NAT, amber masqueraded, red not reached", `font-weight="bold"`);
        y += 62;
        targets.forEach((t, j) => text(left + j * cell + 8, y - 4, t, `font-size="10" transform="rotate(-50 ${left + j * cell + 8} ${y - 4})"`));
        names.forEach((f, i) => {
            text(M, y + i * cell + 15, f);
            targets.forEach((t, j) => {
                const p = pairs.find((x) => x.from === f && x.to === t);
                const fill = f === t ? "#ffffff" : pairColor(p);
                el.push(`<rect x="${left + j * cell}" y="${y + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${fill}" stroke="#888"><title>${esc(p ? `${f} -> ${t}: ${p.reached ? "reached" : "not reached"}, source seen ${p.sourceSeen ?? "-"}` : `${f}`)}</title></rect>`);
            });
        });
        y += names.length * cell + 10;
    } else {
        text(M, y, "no matrix yet: run `npm run podnet -- matrix` to draw its results here");
        y += 10;
    }
    const height = y + M;
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
        `<rect width="100%" height="100%" fill="#ffffff"/>`,
        ...el,
        "</svg>",
        "",
    ].join("\n");
}
