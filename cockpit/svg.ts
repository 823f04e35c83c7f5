// The lab as an SVG picture, seed-004 style: nodes with their bridges and pods, the LAN, the routes, the outside
// host as a host on the LAN, and the last matrix drawn as a grid (green: reached without NAT; amber: masqueraded;
// red: not reached, or answered by the wrong pod). Every box and the picture itself are sized from the text they
// hold, so nothing is cut at any lab size. Pure: the same inputs give the same picture.
import { podNetworkLine, routeText } from "../plan/diagram";
import { AnyLabOutputs } from "../plan/outputs";
import { Pair, pairHolds, serviceTargets } from "./matrix";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
export const COLORS = { ok: "#2e9e44", masq: "#e0a100", fail: "#d62828", none: "#cccccc" } as const;

export function pairColor(p: Pair | undefined): string {
    if (!p) { return COLORS.none; }
    // A Service's cell: amber only for the hairpin the model expects; any other masquerade there is a failure.
    if (!p.reached || p.answeredBy || (p.path === "service" && !pairHolds(p))) { return COLORS.fail; }
    return p.nat ? COLORS.masq : COLORS.ok;
}

/**
 * A generous estimate of a line's width in pixels in a sans-serif font: digits, the widest common glyphs in DejaVu
 * Sans (Debian's default), are 0.64 em; bold is wider. The browser test measures the real widths.
 */
export function textWidth(s: string, size: number, bold = false): number {
    return Math.ceil(s.length * size * (bold ? 0.7 : 0.64));
}

/** The lines one node's box holds, with their font size (the box is as wide as the widest). */
function nodeLines(out: AnyLabOutputs, n: AnyLabOutputs["nodes"][number]): { title: string; pods: string[]; bridge: string[]; routes: string[] } {
    const routes = n.routes.length ? n.routes.map((r) => `route ${routeText(r)}`) : ["no routes (no peers)"];
    const v = n.vxlan;
    return {
        title: `${n.name}  (LAN ${n.lanIp})`,
        pods: out.pods.filter((p) => p.node === n.name).map((p) => `pod ${p.name}  ${p.ip}`),
        bridge: [`bridge ${n.bridge} ${n.bridgeIp}`, n.podCidr],
        routes: v ? [`${v.device}: VNI ${v.vni}, UDP ${v.port}, VTEP ${v.vtepIp}, MTU ${v.mtu}`, ...routes] : routes,
    };
}

export function renderSvg(out: AnyLabOutputs, pairs: readonly Pair[] | undefined): string {
    const M = 20, G = 30, PAD = 12, SMALL = 10, BASE = 11;
    const lines = out.nodes.map((n) => nodeLines(out, n));
    const W = Math.max(220, ...lines.map((l) => Math.max(
        textWidth(l.title, BASE, true) + 2 * PAD,
        ...l.pods.map((p) => textWidth(p, BASE) + 2 * PAD + 12),
        ...l.bridge.map((b) => textWidth(b, BASE) + 2 * PAD + 12),
        ...l.routes.map((r) => textWidth(r, SMALL) + 2 * PAD),
    )));
    const rows = Math.max(1, ...lines.map((l) => l.pods.length));
    const routeRows = Math.max(1, ...lines.map((l) => l.routes.length));
    const nodeH = 100 + rows * 18 + routeRows * 13;
    const el: string[] = [];
    let right = 0;
    const text = (x: number, y: number, s: string, size = BASE, extra = "") => {
        right = Math.max(right, x + textWidth(s, size, extra.includes("bold")));
        el.push(`<text x="${x}" y="${y}"${size === BASE ? "" : ` font-size="${size}"`}${extra ? ` ${extra}` : ""}>${esc(s)}</text>`);
    };

    text(M, M + 12, `podnet-lab: ${out.nodes.length} node${out.nodes.length === 1 ? "" : "s"}, cluster range ${out.clusterCidr}${out.cniPlugin ? `, CNI plugin ${out.cniPlugin}` : ""}`, 13, `font-weight="bold"`);
    text(M, M + 30, podNetworkLine(out));
    const top = M + 46;
    const lanY = top + nodeH + 40;
    out.nodes.forEach((n, i) => {
        const l = lines[i];
        const x = M + i * (W + G), y = top;
        el.push(`<rect x="${x}" y="${y}" width="${W}" height="${nodeH}" rx="8" fill="#f4f6fb" stroke="#36c"/>`);
        text(x + PAD, y + 20, l.title, BASE, `font-weight="bold"`);
        l.pods.forEach((p, k) => {
            el.push(`<rect x="${x + PAD}" y="${y + 30 + k * 18}" width="${W - 2 * PAD}" height="15" rx="3" fill="#fff" stroke="#999"/>`);
            text(x + PAD + 6, y + 42 + k * 18, p);
        });
        const by = y + 40 + rows * 18;
        el.push(`<rect x="${x + PAD}" y="${by}" width="${W - 2 * PAD}" height="34" rx="4" fill="#e3ecff" stroke="#36c"/>`);
        text(x + PAD + 6, by + 14, l.bridge[0]);
        text(x + PAD + 6, by + 28, l.bridge[1]);
        l.routes.forEach((line, k) => text(x + PAD, by + 52 + k * 13, line, SMALL));
        el.push(`<line x1="${x + W / 2}" y1="${y + nodeH}" x2="${x + W / 2}" y2="${lanY}" stroke="#36c" stroke-width="2"/>`);
    });

    // The outside host: a host of its own on the LAN, beside the nodes.
    const hostLines = [`${out.outside.name}  (LAN ${out.outside.ip})`, "a web server outside the cluster,", "standing in for the internet"];
    const HW = Math.max(180, textWidth("outside host", BASE, true) + 2 * PAD, ...hostLines.map((s) => textWidth(s, BASE) + 2 * PAD));
    const hx = M + out.nodes.length * (W + G), hy = top + nodeH - 86;
    el.push(`<rect x="${hx}" y="${hy}" width="${HW}" height="86" rx="8" fill="#fff7e6" stroke="#b07800"/>`);
    text(hx + PAD, hy + 20, "outside host", BASE, `font-weight="bold"`);
    hostLines.forEach((s, k) => text(hx + PAD, hy + 40 + k * 15, s));
    el.push(`<line x1="${hx + HW / 2}" y1="${hy + 86}" x2="${hx + HW / 2}" y2="${lanY}" stroke="#b07800" stroke-width="2"/>`);
    const lanRight = hx + HW;
    el.push(`<line x1="${M}" y1="${lanY}" x2="${lanRight}" y2="${lanY}" stroke="#36c" stroke-width="4"/>`);
    text(M, lanY + 18, `LAN ${out.lan.network} ${out.lan.cidr} (gateway ${out.lan.gateway})`);
    right = Math.max(right, lanRight);

    let y = lanY + 50;
    const names = out.pods.map((p) => p.name);
    // Then a column per Service the matrix probes (cluster mode): amber there is the hairpin, as expected.
    const targets = [...names, out.outside.name, ...serviceTargets(out).map((v) => v.name)];
    const cell = 22;
    if (pairs) {
        text(M, y, "last matrix (row: from, column: to): green reached without NAT, amber masqueraded, red not reached", BASE, `font-weight="bold"`);
        // Column labels are turned 50 degrees: they rise by sin(50) and reach right by cos(50) of their width.
        const label = Math.max(...targets.map((t) => textWidth(t, SMALL)));
        const left = M + Math.max(...names.map((f) => textWidth(f, BASE))) + 12;
        y += 16 + Math.ceil(label * Math.sin((50 * Math.PI) / 180));
        targets.forEach((t, j) => {
            const lx = left + j * cell + 8;
            right = Math.max(right, lx + Math.ceil(label * Math.cos((50 * Math.PI) / 180)));
            el.push(`<text x="${lx}" y="${y - 4}" font-size="${SMALL}" transform="rotate(-50 ${lx} ${y - 4})">${esc(t)}</text>`);
        });
        names.forEach((f, i) => {
            text(M, y + i * cell + 15, f);
            targets.forEach((t, j) => {
                const p = pairs.find((x) => x.from === f && x.to === t);
                const fill = f === t ? "#ffffff" : pairColor(p);
                el.push(`<rect x="${left + j * cell}" y="${y + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${fill}" stroke="#888"><title>${esc(p ? `${f} -> ${t}: ${p.reached ? `reached${p.endpoint ? ` (answered by ${p.endpoint})` : ""}` : "not reached"}, source seen ${p.sourceSeen ?? "-"}` : `${f}`)}</title></rect>`);
            });
        });
        right = Math.max(right, left + targets.length * cell);
        y += names.length * cell + 10;
    } else {
        text(M, y, "no matrix yet: run `npm run podnet -- matrix` to draw its results here");
        y += 10;
    }
    const width = right + M;
    const height = y + M;
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${BASE}">`,
        `<rect width="100%" height="100%" fill="#ffffff"/>`,
        ...el,
        "</svg>",
        "",
    ].join("\n");
}
