// The cockpit's pure parts on fixed inputs: parsing `ip` and probe-server output, declared-vs-live comparison,
// the matrix verdict and table, and the SVG.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCniView, renderCni } from "../cockpit/cni";
import { parseArgs } from "../cockpit/main";
import { Outputs } from "../cockpit/live";
import { modelHolds, Pair, renderMatrix } from "../cockpit/matrix";
import { parseAddrs, parseLinks, parseProbeLog, parseRouteGet, sections } from "../cockpit/parse";
import { compare, parseNodeReport } from "../cockpit/status";
import { COLORS, pairColor, renderSvg, textWidth } from "../cockpit/svg";
import { labOutputs } from "./lab-outputs";

const OUT: Outputs = {
    lan: { network: "podnet-t-lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" },
    outside: { name: "outside", container: "podnet-t-outside", ip: "192.168.1.254" },
    clusterCidr: "10.244.0.0/16",
    nodes: [
        { name: "node1", container: "podnet-t-node1", lanIp: "192.168.1.11", podCidr: "10.244.1.0/24", bridge: "v-net-0", bridgeIp: "10.244.1.1", routes: [{ to: "10.244.2.0/24", via: "192.168.1.12" }] },
        { name: "node2", container: "podnet-t-node2", lanIp: "192.168.1.12", podCidr: "10.244.2.0/24", bridge: "v-net-0", bridgeIp: "10.244.2.1", routes: [{ to: "10.244.1.0/24", via: "192.168.1.11" }] },
    ],
    pods: [
        { name: "a", node: "node1", ip: "10.244.1.2", sandbox: "k8s_POD_a", containers: [{ name: "web", container: "k8s_web_a", image: "nginx:1.27" }] },
        { name: "b", node: "node2", ip: "10.244.2.2", sandbox: "k8s_POD_b", containers: [{ name: "web", container: "k8s_web_b", image: "nginx:1.27" }] },
    ],
    pendingPods: [],
};

describe("cockpit: parsing what the nodes print", () => {
    it("ip route get: cross-node, same node, unreachable", () => {
        assert.deepEqual(parseRouteGet("10.244.3.2 via 192.168.1.13 dev eth0 src 192.168.1.11 uid 0 \n    cache "),
            { dst: "10.244.3.2", via: "192.168.1.13", dev: "eth0", src: "192.168.1.11" });
        assert.deepEqual(parseRouteGet("10.244.1.3 from 10.244.1.2 dev v-net-0 \n    cache iif veth38ae469b"),
            { dst: "10.244.1.3", via: undefined, dev: "v-net-0", src: undefined });
        assert.equal(parseRouteGet("unreachable 10.9.9.9 from 10.244.1.2 iif veth1")?.type, "unreachable");
        assert.equal(parseRouteGet(""), undefined);
    });

    it("ip -o link: names without @peer, peer index, master, up", () => {
        const text = [
            "3: v-net-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 4e:66",
            "4: veth38ae469b@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master v-net-0 state UP mode DEFAULT\\    link/ether da:bd link-netns pod-net-test",
            "2: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
            "5: v-net-1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN",
        ].join("\n");
        assert.deepEqual(parseLinks(text), [
            { index: 3, name: "v-net-0", up: true },
            { index: 4, name: "veth38ae469b", peerIndex: 2, master: "v-net-0", up: true },
            { index: 2, name: "eth0", peerIndex: 4, up: true },
            { index: 5, name: "v-net-1", up: false },
        ]);
    });

    it("ip -4 -o addr", () => {
        assert.deepEqual(parseAddrs("3: v-net-0    inet 10.244.1.1/24 scope global v-net-0\\       valid_lft forever"), [{ dev: "v-net-0", cidr: "10.244.1.1/24" }]);
    });

    it("probe server logs: busybox httpd -vv and nginx, the client's address per /from-<pod>", () => {
        const log = [
            "[::ffff:10.244.1.2]:44900: url:/from-a",
            "[::ffff:10.244.1.2]:44900: response:200",
            `192.168.1.12 - - [27/Nov/2026:01:18:30 +0000] "GET /from-b HTTP/1.0" 404 153 "-" "-"`,
            "[::ffff:192.168.1.11]:49600: response:200",
        ].join("\n");
        assert.deepEqual([...parseProbeLog(log)], [["a", "10.244.1.2"], ["b", "192.168.1.12"]]);
    });

    it("sections of a node script's output", () => {
        assert.deepEqual([...sections("@one\nx\ny\n@two 2\nz")], [["one", "x\ny"], ["two 2", "z"]]);
    });
});

describe("cockpit: declared vs live (status)", () => {
    const report = (over: { addr?: string; routes?: string; links?: string; containers?: string; agent?: string; pod?: string } = {}) => parseNodeReport([
        "@addr", over.addr ?? "3: v-net-0    inet 10.244.1.1/24 scope global v-net-0",
        "@bridgelink", "3: v-net-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500",
        "@routes", over.routes ?? "default via 192.168.1.1 dev eth0\n10.244.2.0/24 via 192.168.1.12 dev eth0",
        "@links", over.links ?? "3: v-net-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n7: vethaaaa@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master v-net-0 state UP",
        "@containers", over.containers ?? "k8s_POD_a running\nk8s_web_a running",
        "@agent", over.agent ?? "running",
        "@pod a", over.pod ?? "2: eth0    inet 10.244.1.2/24 scope global eth0\n2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500",
    ].join("\n"));

    it("as declared: no difference", () => {
        const r = compare(OUT, OUT.nodes[0], true, report());
        assert.deepEqual(r.differences, []);
        assert.equal(r.pods[0].veth, "vethaaaa");
        assert.equal(r.pods[0].liveIp, "10.244.1.2");
    });

    it("every difference is named: missing route, stopped container, veth without pod, pod without veth, paused agent", () => {
        const r = compare(OUT, OUT.nodes[0], true, report({
            routes: "default via 192.168.1.1 dev eth0",
            containers: "k8s_POD_a running\nk8s_web_a exited",
            links: "8: vethbbbb@if3: <UP> mtu 1500 master v-net-0",
            agent: "paused since 2026-11-27T00:00:00Z: cockpit: x",
        }));
        assert.deepEqual(r.differences, [
            "node1: route 10.244.2.0/24 via 192.168.1.12 is missing",
            "node1: its node agent is paused since 2026-11-27T00:00:00Z: cockpit: x (nothing is repaired)",
            "a: container web is exited",
            "a: no veth on node1",
            "node1: veth vethbbbb on v-net-0 belongs to no pod",
        ]);
    });

    it("the overlay: its routes via the peer's VTEP, and its VXLAN device there and up, or named when it is not", () => {
        const node = { ...OUT.nodes[0], routes: [{ to: "10.244.2.0/24", via: "10.244.2.0", dev: "vxlan.1", remote: "192.168.1.12" }],
            vxlan: { device: "vxlan.1", vni: 1, port: 4789, vtepIp: "10.244.1.0", mac: "0a:58:0a:f4:01:00", mtu: 1450 } };
        const out = { ...OUT, podNetwork: "vxlan", nodes: [node, OUT.nodes[1]] };
        const routes = "default via 192.168.1.1 dev eth0\n10.244.2.0/24 via 10.244.2.0 dev vxlan.1 onlink";
        const links = "3: v-net-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n7: vethaaaa@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master v-net-0 state UP";
        const up = compare(out, node, true, report({ routes, links: `${links}\n9: vxlan.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UNKNOWN` }));
        assert.deepEqual(up.differences, []);
        assert.deepEqual(up.node.vxlan, { device: "vxlan.1", up: true });
        const down = compare(out, node, true, report({ routes: "default via 192.168.1.1 dev eth0", links: `${links}\n9: vxlan.1: <BROADCAST,MULTICAST> mtu 1450 state DOWN` }));
        assert.deepEqual(down.differences, ["node1: route 10.244.2.0/24 via 10.244.2.0 dev vxlan.1 is missing", "node1: VXLAN device vxlan.1 is down or missing"]);
        assert.deepEqual(compare(out, node, true, report({ routes, links })).differences, ["node1: VXLAN device vxlan.1 is down or missing"]);
    });

    it("a node that is not running", () => {
        assert.deepEqual(compare(OUT, OUT.nodes[1], false, undefined).differences, ["node2: the node container podnet-t-node2 is not running"]);
    });
});

describe("cockpit: the matrix and the picture", () => {
    const pairs: Pair[] = [
        { from: "a", to: "b", reached: true, sourceSeen: "10.244.1.2", nat: false, path: "across nodes" },
        { from: "b", to: "a", reached: true, sourceSeen: "10.244.2.2", nat: false, path: "across nodes" },
        { from: "a", to: "outside", reached: true, sourceSeen: "192.168.1.11", nat: true, path: "outside" },
        { from: "b", to: "outside", reached: true, sourceSeen: "192.168.1.12", nat: true, path: "outside" },
    ];

    it("the model holds only when pods meet without NAT and leave masqueraded", () => {
        assert.equal(modelHolds(pairs), true);
        assert.equal(modelHolds([{ ...pairs[0], nat: true, sourceSeen: "192.168.1.11" }, ...pairs.slice(1)]), false, "pod-to-pod NAT");
        assert.equal(modelHolds([...pairs.slice(0, 2), { ...pairs[2], nat: false, sourceSeen: "10.244.1.2" }, pairs[3]]), false, "leaving unmasqueraded");
        assert.equal(modelHolds([{ ...pairs[0], answeredBy: "c" }, ...pairs.slice(1)]), false, "the wrong pod answered");
        assert.equal(modelHolds([]), false);
    });

    it("the table names each pair's outcome", () => {
        const t = renderMatrix([pairs[0], { ...pairs[1], reached: false, sourceSeen: null, nat: null }], OUT).split("\n");
        assert.match(t[0], /^FROM +TO +REACHED +SOURCE SEEN +NAT +PATH +MODEL$/);
        assert.match(t[1], /^a +b \(10\.244\.2\.2\) +yes +10\.244\.1\.2 +no +across nodes +ok$/);
        assert.match(t[2], /^b +a \(10\.244\.1\.2\) +NO +- +- +across nodes +UNEXPECTED$/);
    });

    it("the SVG names every node and pod with its IP, and colours the matrix", () => {
        const svg = renderSvg(OUT, [...pairs, { from: "a", to: "b", reached: false, sourceSeen: null, nat: null, path: "across nodes" }]);
        assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        for (const s of ["node1  (LAN 192.168.1.11)", "pod a  10.244.1.2", "pod b  10.244.2.2", "bridge v-net-0 10.244.2.1", "route 10.244.2.0/24 via 192.168.1.12", "outside  (LAN 192.168.1.254)"]) {
            assert.ok(svg.includes(s), `svg lacks ${s}`);
        }
        assert.equal(pairColor(pairs[0]), COLORS.ok);
        assert.equal(pairColor(pairs[2]), COLORS.masq);
        assert.equal(pairColor({ ...pairs[0], reached: false }), COLORS.fail);
        assert.ok(svg.includes(`fill="${COLORS.masq}"`));
        const opened = (svg.match(/<(rect|text|line|svg|title)\b/g) ?? []).length;
        const closed = (svg.match(/<\/(rect|text|svg|title)>|\/>/g) ?? []).length;
        assert.equal(opened, closed, "every element is closed");
        assert.match(renderSvg(OUT, undefined), /no matrix yet/);
    });

    /** Each text (by the renderer's own width estimate) inside the picture, and inside the innermost box it starts in. */
    function overflows(svg: string): string[] {
        const num = (tag: string, k: string) => Number(new RegExp(`\\b${k}="([\\d.]+)"`).exec(tag)?.[1] ?? NaN);
        const width = num(/<svg[^>]*>/.exec(svg)![0], "width");
        const rects = [...svg.matchAll(/<rect [^>]*>/g)].map((m) => m[0]).filter((r) => !r.includes("100%"))
            .map((r) => ({ x: num(r, "x"), y: num(r, "y"), w: num(r, "width"), h: num(r, "height") }));
        const bad: string[] = [];
        for (const m of svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
            const [attrs, raw] = [m[1], m[2].replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')];
            if (attrs.includes("rotate")) { continue; }
            const x = num(attrs, "x"), y = num(attrs, "y");
            const end = x + textWidth(raw, Number(/font-size="(\d+)"/.exec(attrs)?.[1] ?? 11), attrs.includes("bold"));
            if (end > width) { bad.push(`"${raw}" ends at ${end}, the picture at ${width}`); }
            const box = rects.filter((r) => x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h).sort((a, b) => a.w - b.w)[0];
            if (box && end > box.x + box.w) { bad.push(`"${raw}" ends at ${end}, its box at ${box.x + box.w}`); }
        }
        return bad;
    }

    for (const n of [3, 6, 10]) {
        for (const model of ["lab", "vxlan"] as const) {
            it(`the SVG fits its own text at ${n} nodes (${model}): the title, every box, the matrix; the outside host is a host on the LAN`, () => {
                const out = labOutputs(n, model);
                const all: Pair[] = out.pods.flatMap((p) => [...out.pods.filter((t) => t !== p).map((t) => ({ from: p.name, to: t.name, reached: true, sourceSeen: p.ip, nat: false, path: "across nodes" as const })),
                    { from: p.name, to: "outside", reached: true, sourceSeen: "192.168.1.11", nat: true, path: "outside" as const }]);
                const svg = renderSvg(out, all);
                assert.deepEqual(overflows(svg), []);
                assert.ok(svg.includes(model === "vxlan" ? "VXLAN: each node's vxlan.1" : "each node routes every peer's pod subnet via that peer's LAN IP"), "the whole model line");
                assert.ok(svg.includes(`podnet-lab: ${n} nodes, cluster range 10.244.0.0/16, CNI plugin podnet`));
                assert.ok(svg.includes(">outside host</text>") && svg.includes("outside  (LAN 192.168.1.254)"), "the outside host's own box");
                assert.equal((svg.match(/<line /g) ?? []).length, n + 2, "one line per node and one for the outside host down to the LAN, and the LAN");
            });
        }
    }

    it("the fit check can fail: a text wider than its box is named", () => {
        const svg = renderSvg(OUT, undefined).replace("pod a  10.244.1.2", `pod a  10.244.1.2${"x".repeat(150)}`);
        assert.deepEqual(overflows(svg).map((b) => b.replace(/(at) \d+/g, "$1 N")), [`"pod a  10.244.1.2${"x".repeat(150)}" ends at N, the picture at N`, `"pod a  10.244.1.2${"x".repeat(150)}" ends at N, its box at N`]);
    });

    it("arguments: verb, rest, options; an unknown option is refused", () => {
        assert.deepEqual(parseArgs(["trace", "a", "b", "--json", "--outputs", "f.json"]), { verb: "trace", rest: ["a", "b"], json: true, outputs: "f.json" });
        assert.throws(() => parseArgs(["status", "--jsno"]), /unknown option --jsno/);
        assert.throws(() => parseArgs(["status", "--outputs"]), /--outputs needs a value/);
    });
});

describe("cockpit: cni POD", () => {
    const call = (plugin: string, stdout: unknown, stderr: string[] = []) => JSON.stringify({
        time: "2026-12-01T00:00:00Z", op: "1-2", pod: "a", plugin, exit: 0, stderr, stdout,
        env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "abc", CNI_NETNS: "/var/run/netns/a", CNI_IFNAME: "eth0", CNI_ARGS: "K8S_POD_NAME=a", CNI_PATH: "/opt/cni/bin" },
        stdin: { cniVersion: "1.0.0", name: "podnet", type: plugin },
    });
    const conflist = JSON.stringify({ cniVersion: "1.0.0", name: "podnet", plugins: [{ type: "podnet" }, { type: "portmap" }] }, null, 2);
    const result = { cniVersion: "1.0.0", ips: [{ address: "10.244.1.2/24", gateway: "10.244.1.1", interface: 2 }] };

    it("parses the conflist and the logged calls; renders each call's variables, stdin, stderr and result", () => {
        const v = parseCniView("a", "node1", `${conflist}\n@@podnet-cni-last\n${call("podnet", result, ["podnet: IPAM ADD delegated to /opt/cni/bin/host-local: {}"])}\n${call("portmap", result)}\n`);
        assert.deepEqual(v.calls.map((c) => c.plugin), ["podnet", "portmap"]);
        const text = renderCni(v);
        assert.match(text, /^pod a on node1: its last CNI ADD/);
        assert.match(text, /network podnet, plugins podnet -> portmap/);
        assert.match(text, /^1\. podnet: exit 0 at 2026-12-01T00:00:00Z$/m);
        assert.match(text, /^ {3}CNI_NETNS=\/var\/run\/netns\/a$/m);
        assert.match(text, /^ {3}stderr: podnet: IPAM ADD delegated to \/opt\/cni\/bin\/host-local: \{\}$/m);
        assert.match(text, /^ {3}stdout: \{"cniVersion":"1\.0\.0","ips":\[\{"address":"10\.244\.1\.2\/24"/m);
        assert.match(text, /^2\. portmap: exit 0/m);
    });

    it("no configuration and no logged ADD: says so", () => {
        const v = parseCniView("a", "node1", "@@podnet-cni-last\n");
        assert.equal(v.conflist, null);
        assert.match(renderCni(v), /configuration \/etc\/cni\/net\.d\/10-podnet\.conflist: none\n\nno ADD logged for a on node1/);
    });
});
