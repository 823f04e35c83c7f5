// Table tests of the pure plan: valid labs of 1, 3 and 20 nodes, and bad inputs refused with the culprit named.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { parseLabConfig, PodNetwork } from "../plan/config";
import { LabInputError } from "../plan/errors";
import { formatCidr, overlaps, parseCidr, Cidr } from "../plan/ip";
import { loadLab, NODE_INIT_SOURCE, projectRoot, writeNodeInit } from "../plan/load";
import { beforeModel, ModelInputs, NETWORK_MODELS, NodeNetwork, overlayModel, routedModel } from "../plan/models";
import { LabPlan, macFromIp, peerRoutes, planLab, rendezvousNode } from "../plan/plan";
import { cniCommand, nodeInit, routesCommand, vxlanCommand, vxlanPeersCommand } from "../plan/commands";
import { parsePodManifests, PodSpec } from "../plan/pods";
import { BAD_CONFIG } from "./bad-config";

const root = projectRoot();
const config = (raw: Record<string, string> = {}) => {
    const { config, problems } = parseLabConfig(raw);
    assert.equal(problems.count, 0, problems.all.join("\n"));
    return config;
};
const pods = (yaml: string): PodSpec[] => {
    const r = parsePodManifests([{ path: "t.yaml", text: yaml }]);
    assert.equal(r.problems.count, 0, r.problems.all.join("\n"));
    return r.pods;
};
const plan = (raw: Record<string, string>, specs: PodSpec[] = []): LabPlan => {
    const r = planLab(config(raw), specs, "t");
    assert.equal(r.problems.count, 0, r.problems.all.join("\n"));
    return r.plan;
};
const web = (name: string, node?: string) =>
    `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${node ? `  nodeName: ${node}\n` : ""}  containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]\n`;

/** Placements under rendezvous hashing over node1..node3, computed once: a change to the rule shows up here. */
const RENDEZVOUS_TABLE = ["a@node1", "b@node1", "c@node3", "d@node3", "aaa@node3", "pod-net-test@node2", "web-1@node3"];

describe("plan: valid labs", () => {
    const table: { n: number; last: { name: string; lanIp: string; podCidr: string; bridgeIp: string } }[] = [
        { n: 1, last: { name: "node1", lanIp: "192.168.1.11", podCidr: "10.244.1.0/24", bridgeIp: "10.244.1.1" } },
        { n: 3, last: { name: "node3", lanIp: "192.168.1.13", podCidr: "10.244.3.0/24", bridgeIp: "10.244.3.1" } },
        { n: 20, last: { name: "node20", lanIp: "192.168.1.30", podCidr: "10.244.20.0/24", bridgeIp: "10.244.20.1" } },
    ];
    for (const { n, last } of table) {
        it(`N=${n}: node i gets 10.244.i.0/24, LAN .10+i, and a route to each of the other ${n - 1}`, () => {
            const p = plan({ nodeCount: String(n) });
            assert.equal(p.nodes.length, n);
            const l = p.nodes[n - 1];
            assert.deepEqual({ name: l.name, lanIp: l.lanIp, podCidr: l.podCidr, bridgeIp: l.bridgeIp }, last);
            for (const node of p.nodes) {
                assert.equal(node.routes.length, n - 1);
                for (const r of node.routes) {
                    const peer = p.nodes.find((x) => x.name === r.peer)!;
                    assert.equal(r.to, peer.podCidr);
                    assert.equal(r.via, peer.lanIp);
                }
                assert.equal(node.routesResourceName, `${node.name}-routes`, "one resource per node holds its routes");
            }
            assert.equal(p.nodes.flatMap((x) => x.routes).length, n * (n - 1));
        });
    }

    it("the seeds' values: node1 -> 10.244.1.0/24 on 192.168.1.11, gateway 192.168.1.1", () => {
        const p = plan({});
        assert.deepEqual(p.lan, { network: "podnet-t-lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" });
        assert.deepEqual(p.nodes.map((n) => `${n.name} ${n.container} ${n.lanIp} ${n.podCidr} ${n.bridgeCidr}`), [
            "node1 podnet-t-node1 192.168.1.11 10.244.1.0/24 10.244.1.1/24",
            "node2 podnet-t-node2 192.168.1.12 10.244.2.0/24 10.244.2.1/24",
            "node3 podnet-t-node3 192.168.1.13 10.244.3.0/24 10.244.3.1/24",
        ]);
    });

    it("other prefixes: /20 cluster with /26 node subnets", () => {
        const p = plan({ clusterCidr: "10.8.0.0/20", nodeSubnetPrefix: "26", nodeCount: "4" });
        assert.deepEqual(p.nodes.map((n) => n.podCidr), ["10.8.0.64/26", "10.8.0.128/26", "10.8.0.192/26", "10.8.1.0/26"]);
    });

    it("placement: nodeName wins; the rest go to the node rendezvous hashing picks; no IP is planned (IPAM hands it out)", () => {
        const p = plan({}, pods(web("c") + web("a") + web("pinned", "node3") + web("b") + web("d")));
        const names = ["node1", "node2", "node3"];
        assert.deepEqual(p.pods.map((x) => `${x.name}@${x.node}`).sort(), [
            `a@${rendezvousNode("a", names)}`, `b@${rendezvousNode("b", names)}`,
            `c@${rendezvousNode("c", names)}`, `d@${rendezvousNode("d", names)}`, "pinned@node3",
        ]);
        const c = p.pods.find((x) => x.name === "c")!;
        const n = p.nodes.find((x) => x.name === c.node)!;
        assert.equal(c.gateway, n.bridgeIp);
        assert.equal(c.podCidr, n.podCidr);
        assert.ok(!("ip" in c), "pod IPs are not planned");
        assert.equal(c.sandbox, "k8s_POD_c");
        assert.equal(c.containers[0].container, "k8s_web_c");
        assert.deepEqual(n.cni?.conflist.plugins[0].ipam, { type: "host-local", ranges: [[{ subnet: n.podCidr, gateway: n.bridgeIp }]], dataDir: "/var/lib/cni/networks" },
            "the node's CNI configuration hands out addresses from its own subnet");
    });

    it("rendezvous hashing: a fixed table (the rule must not drift between versions)", () => {
        const nodes = ["node1", "node2", "node3"];
        assert.deepEqual(["a", "b", "c", "d", "aaa", "pod-net-test", "web-1"].map((x) => `${x}@${rendezvousNode(x, nodes)}`), RENDEZVOUS_TABLE);
    });

    it("property: adding or removing a pod never moves another pod", () => {
        fc.assert(fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/).filter((x) => !/^node[0-9]+$/.test(x)), { minLength: 2, maxLength: 12 }), fc.integer({ min: 1, max: 8 }),
            (names, n) => {
                const all = plan({ nodeCount: String(n) }, pods(names.map((x) => web(x)).join(""))).pods;
                const fewer = plan({ nodeCount: String(n) }, pods(names.slice(1).map((x) => web(x)).join(""))).pods;
                for (const x of fewer) { assert.equal(x.node, all.find((y) => y.name === x.name)!.node, `${x.name} moved`); }
            }), { numRuns: 200 });
    });

    it("property: a node added to N moves only pods onto the new node, about 1/(N+1) of them", () => {
        const names = Array.from({ length: 400 }, (_, i) => `pod-${i}`);
        for (const n of [1, 3, 6, 9]) {
            const before = new Map(names.map((x) => [x, rendezvousNode(x, Array.from({ length: n }, (_, i) => `node${i + 1}`))]));
            const grown = Array.from({ length: n + 1 }, (_, i) => `node${i + 1}`);
            const moved = names.filter((x) => rendezvousNode(x, grown) !== before.get(x));
            for (const x of moved) { assert.equal(rendezvousNode(x, grown), `node${n + 1}`, `${x} moved between old nodes`); }
            const share = moved.length / names.length;
            assert.ok(Math.abs(share - 1 / (n + 1)) < 0.08, `N=${n}: ${moved.length} of ${names.length} moved`);
        }
    });

    it("a pod whose nodeName names no node is pending, with the reason; the rest still run", () => {
        const p = plan({ nodeCount: "2" }, pods(web("web-3", "node3") + web("a")));
        assert.deepEqual(p.pods.map((x) => x.name), ["a"]);
        assert.equal(p.pending.length, 1);
        assert.equal(p.pending[0].name, "web-3");
        assert.match(p.pending[0].reason, /spec\.nodeName 'node3' \(t\.yaml \(document 1\)\) is not a node of this lab; nodes: node1, node2 \(config podnet-lab:nodeCount is 2\)/);
    });

    it("images: substitution applies to pause and pods; each distinct image once, pause first", () => {
        const p = plan({ imageSubstitutions: JSON.stringify({ "nginx:1.27": "local/web:1", "registry.k8s.io/pause:3.10": "local/pause:1" }) },
            pods(web("a") + web("b")));
        assert.deepEqual(p.images, [{ ref: "local/pause:1", key: "local-pause-1" }, { ref: "local/web:1", key: "local-web-1" }]);
        assert.equal(p.pods[0].containers[0].image, "nginx:1.27");
        assert.equal(p.pods[0].containers[0].runImage, "local/web:1");
    });

    it("the project's own pods/ and Pulumi.dev.yaml values load", () => {
        const { plan: p } = loadLab({}, "dev", root);
        assert.deepEqual(p.pods.map((x) => `${x.name}@${x.node}`).sort(), ["pod-net-test@node1", "web-1@node1", "web-2@node2", "web-3@node3"]);
    });

    it("property: node subnets never overlap, sit inside the cluster range, and never meet the LAN", () => {
        fc.assert(fc.property(
            fc.integer({ min: 8, max: 24 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 255 }),
            (clusterPrefix, extra, count, octet) => {
                const subPrefix = Math.min(clusterPrefix + extra, 30);
                const room = 2 ** (subPrefix - clusterPrefix) - 1;
                const n = Math.min(count, room);
                fc.pre(n >= 1);
                const cluster = formatCidr({ base: ((octet << 24) >>> 0) & (0xffffffff << (32 - clusterPrefix)) >>> 0, prefix: clusterPrefix });
                const lan = parseCidr("192.168.1.0/24")!;
                fc.pre(!overlaps(parseCidr(cluster)!, lan));
                fc.pre(!overlaps(parseCidr(cluster)!, parseCidr("172.17.0.0/16")!));   // the nodes' docker0: refused (a table test)
                const p = plan({ clusterCidr: cluster, nodeSubnetPrefix: String(subPrefix), nodeCount: String(n) });
                const subs: Cidr[] = p.nodes.map((x) => parseCidr(x.podCidr)!);
                const c = parseCidr(cluster)!;
                subs.forEach((s, i) => {
                    assert.ok(s.base >= c.base && s.base + 2 ** (32 - s.prefix) <= c.base + 2 ** (32 - c.prefix), `${formatCidr(s)} outside ${cluster}`);
                    assert.ok(!overlaps(s, lan));
                    subs.slice(i + 1).forEach((t) => assert.ok(!overlaps(s, t), `${formatCidr(s)} overlaps ${formatCidr(t)}`));
                });
            }), { numRuns: 300 });
    });
});


describe("plan: routed or overlay (podNetwork lab | vxlan)", () => {
    const specs = () => pods(web("a", "node1") + web("b", "node2") + web("c", "node3"));
    const table: { network: PodNetwork; routes: number; peers: number; device: boolean; mtu: number }[] = [
        { network: "lab", routes: 2, peers: 0, device: false, mtu: 1500 },
        { network: "vxlan", routes: 0, peers: 2, device: true, mtu: 1450 },
        { network: "docker0", routes: 0, peers: 0, device: false, mtu: 1500 },
    ];
    for (const t of table) {
        it(`${t.network}: ${t.routes} routes, ${t.peers} overlay peers per node, ${t.device ? "a" : "no"} VXLAN device, pod MTU ${t.mtu}`, () => {
            const p = plan({ podNetwork: t.network }, specs());
            for (const n of p.nodes) {
                assert.equal(n.routes.length, t.routes, n.name);
                assert.equal(n.vxlanPeers.length, t.peers, n.name);
                assert.equal(!!n.vxlan, t.device, n.name);
                assert.equal(n.podMtu, t.mtu);
            }
            for (const n of p.nodes) {   // (no CNI configuration under docker0: Docker wires the sandbox)
                assert.equal(n.cni?.conflist.plugins[0].mtu, t.network === "docker0" ? undefined : t.mtu, n.name);
            }
        });
    }

    it("vxlan, Flannel-style: vxlan.1, VNI 1, UDP 4789; the VTEP is the subnet's network address, its MAC 0a:58 + that address", () => {
        const p = plan({ podNetwork: "vxlan" });
        assert.deepEqual(p.nodes.map((n) => n.vxlan), [1, 2, 3].map((i) => ({
            resourceName: `node${i}-vxlan`, device: "vxlan.1", vni: 1, port: 4789, vtepIp: `10.244.${i}.0`, mac: `0a:58:0a:f4:0${i}:00`, mtu: 1450,
            peersResourceName: `node${i}-vxlan-peers`,
        })));
        assert.deepEqual(p.nodes[0].vxlanPeers, [
            { peer: "node2", to: "10.244.2.0/24", vtepIp: "10.244.2.0", mac: "0a:58:0a:f4:02:00", lanIp: "192.168.1.12" },
            { peer: "node3", to: "10.244.3.0/24", vtepIp: "10.244.3.0", mac: "0a:58:0a:f4:03:00", lanIp: "192.168.1.13" },
        ]);
        assert.equal(p.nodes[0].routesResourceName, undefined, "no routes table under the overlay");
        assert.equal(macFromIp("192.168.255.1"), "0a:58:c0:a8:ff:01");
    });

    it("each lab bridge has a MAC of its own, 0a:58 + its address: locally administered, unicast, the same under both models and in every runtime, distinct from every VTEP's; none under docker0", () => {
        const variants: Record<string, string>[] = [{}, { podNetwork: "vxlan" }, { podRuntime: "kubelet" }, { cniPlugin: "bridge" }, { nodeCount: "20" }, { clusterCidr: "172.20.0.0/16" }];
        for (const over of variants) {
            const p = plan(over);
            assert.deepEqual(p.nodes.map((n) => n.bridgeMac), p.nodes.map((n) => macFromIp(n.bridgeIp)), JSON.stringify(over));
            for (const n of p.nodes) {
                const first = parseInt(n.bridgeMac!.slice(0, 2), 16);
                assert.equal(first & 0b10, 0b10, `${n.bridgeMac} is locally administered`);
                assert.equal(first & 0b01, 0, `${n.bridgeMac} is unicast`);
            }
            assert.equal(new Set(p.nodes.map((n) => n.bridgeMac)).size, p.nodes.length, "no two bridges share a MAC");
            const vteps = p.nodes.flatMap((n) => (n.vxlan ? [n.vxlan.mac] : []));
            assert.ok(p.nodes.every((n) => !vteps.includes(n.bridgeMac!)), "no bridge has a VTEP's MAC");
        }
        assert.deepEqual(plan({}).nodes.map((n) => n.bridgeMac), ["0a:58:0a:f4:01:01", "0a:58:0a:f4:02:01", "0a:58:0a:f4:03:01"]);
        assert.deepEqual(plan({ podNetwork: "docker0" }).nodes.map((n) => n.bridgeMac), [undefined, undefined, undefined]);
    });

    it("vxlan with 20 nodes: every MAC and VTEP distinct, every peer's entry names that peer's own", () => {
        const p = plan({ podNetwork: "vxlan", nodeCount: "20" });
        assert.equal(new Set(p.nodes.map((n) => n.vxlan!.mac)).size, 20);
        for (const n of p.nodes) {
            assert.equal(n.vxlanPeers.length, 19);
            for (const e of n.vxlanPeers) {
                const peer = p.nodes.find((x) => x.name === e.peer)!;
                assert.deepEqual([e.to, e.vtepIp, e.mac, e.lanIp], [peer.podCidr, peer.vxlan!.vtepIp, peer.vxlan!.mac, peer.lanIp]);
            }
        }
    });

    it("the node-side commands: the device, the peers as one table (route, neighbour, FDB each), the routes as one table, the CNI configuration with the pod MTU", () => {
        const p = plan({ podNetwork: "vxlan" }, specs());
        const n = p.nodes[0];
        assert.equal(vxlanCommand(n, n.vxlan!).create, "docker exec podnet-t-node1 podnet-vxlan add vxlan.1 1 4789 192.168.1.11 10.244.1.0 0a:58:0a:f4:01:00 1450");
        assert.match(vxlanCommand(n, n.vxlan!).delete!, /then docker exec podnet-t-node1 podnet-vxlan del vxlan\.1 1 4789 .* 1450; fi$/);
        const peers = vxlanPeersCommand(n, n.vxlan!);
        assert.equal(peers.create, "docker exec -i podnet-t-node1 podnet-vxlan peers set vxlan.1");
        assert.equal(peers.stdin, "10.244.2.0/24 via 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dst 192.168.1.12\n" +
            "10.244.3.0/24 via 10.244.3.0 lladdr 0a:58:0a:f4:03:00 dst 192.168.1.13\n");
        assert.match(peers.delete!, /then docker exec podnet-t-node1 podnet-vxlan peers clear vxlan\.1; fi$/);
        assert.equal(cniCommand(n, p.pods[0], "sbx", "vxlan").create, "docker exec podnet-t-node1 podnet-cni ADD a sbx");
        assert.equal(n.cni?.conflist.plugins[0].mtu, 1450);
        const routed = plan({}, specs());
        assert.equal(routed.nodes[0].cni?.conflist.plugins[0].mtu, 1500);
        const routes = routesCommand(routed.nodes[0]);
        assert.equal(routes.create, "docker exec -i podnet-t-node1 podnet-route set");
        assert.equal(routes.stdin, "10.244.2.0/24 via 192.168.1.12\n10.244.3.0/24 via 192.168.1.13\n");
        assert.match(routes.delete!, /then docker exec podnet-t-node1 podnet-route clear; fi$/);
    });

    it("the switch lab <-> vxlan: the same subnets, bridges, pods and placement; routes and overlay entries never share a resource name; every peer subnet is reached either way", () => {
        const lab = plan({}, specs());
        const vx = plan({ podNetwork: "vxlan" }, specs());
        const keep = (q: LabPlan) => q.nodes.map((n) => ({ name: n.name, podCidr: n.podCidr, bridge: n.bridge, bridgeCidr: n.bridgeCidr, pods: n.pods }));
        assert.deepEqual(keep(vx), keep(lab));
        assert.deepEqual(vx.pods.map((x) => `${x.name}@${x.node} ${x.sandbox}`), lab.pods.map((x) => `${x.name}@${x.node} ${x.sandbox}`));
        const names = (q: LabPlan) => q.nodes.flatMap((n) => [...(n.routesResourceName ? [n.routesResourceName] : []), ...(n.vxlan ? [n.vxlan.resourceName, n.vxlan.peersResourceName] : [])]);
        assert.deepEqual(names(lab).filter((x) => names(vx).includes(x)), []);
        for (const [a, b] of lab.nodes.map((n, i) => [n, vx.nodes[i]] as const)) {
            assert.deepEqual(peerRoutes(a).map((r) => r.to), peerRoutes(b).map((r) => r.to), a.name);
            assert.ok(peerRoutes(a).every((r) => !r.dev && lab.nodes.some((x) => x.lanIp === r.via)));
            assert.ok(peerRoutes(b).every((r) => r.dev === "vxlan.1" && vx.nodes.some((x) => x.lanIp === r.remote && x.vxlan!.vtepIp === r.via)));
        }
    });
});

describe("the node init: every node script in one upload", () => {
    it("installs each script verbatim, then execs the entrypoint; a script holding the end marker is refused", () => {
        const init = nodeInit([{ file: "/usr/local/bin/a", content: "#!/bin/sh\necho 'a' \"$1\"\n" }, { file: "/usr/local/bin/b", content: "echo b" }]);
        assert.equal(init.file, "/usr/local/bin/podnet-node-init");
        assert.ok(init.content.includes("install_script /usr/local/bin/a <<'PODNET_SCRIPT_END'\n#!/bin/sh\necho 'a' \"$1\"\nPODNET_SCRIPT_END\n"));
        assert.ok(init.content.includes("install_script /usr/local/bin/b <<'PODNET_SCRIPT_END'\necho b\nPODNET_SCRIPT_END\n"));
        assert.throws(() => nodeInit([{ file: "/usr/local/bin/c", content: "x\nPODNET_SCRIPT_END\ny\n" }]), /\/usr\/local\/bin\/c holds a line 'PODNET_SCRIPT_END'/);
    });

    it("is written on the host and uploaded by reference: its path and hash, rewritten only when a script changes", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-init-"));
        try {
            const scripts = [{ file: "/usr/local/bin/a", content: "echo a\n" }];
            const first = writeNodeInit(dir, scripts);
            const file = path.join(dir, NODE_INIT_SOURCE);
            assert.deepEqual({ ...first, sourceHash: undefined }, { file: "/usr/local/bin/podnet-node-init", source: ".lab/podnet-node-init", sourceHash: undefined });
            assert.equal(fs.readFileSync(file, "utf8"), nodeInit(scripts).content);
            assert.match(first.sourceHash, /^[0-9a-f]{64}$/);
            const inode = fs.statSync(file).ino;
            assert.deepEqual(writeNodeInit(dir, scripts), first, "same scripts, same upload");
            assert.equal(fs.statSync(file).ino, inode, "same scripts: the file is left alone");
            const changed = writeNodeInit(dir, [{ file: "/usr/local/bin/a", content: "echo b\n" }]);
            assert.notEqual(changed.sourceHash, first.sourceHash, "a changed script changes the hash (and so replaces the nodes)");
            assert.ok(fs.readFileSync(file, "utf8").includes("echo b"));
            assert.deepEqual(fs.readdirSync(path.dirname(file)), ["podnet-node-init"], "no temporary file left");
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });

    it("a node init that cannot be written is refused with its path named", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-init-"));
        try {
            fs.writeFileSync(path.join(dir, ".lab"), "a file where the folder should be");
            assert.throws(() => writeNodeInit(dir, [{ file: "/usr/local/bin/a", content: "echo a\n" }]),
                (e: Error) => e.message.startsWith(`podnet-lab: cannot write the node init to ${path.join(dir, NODE_INIT_SOURCE)}, which every node container uploads: `));
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
});

describe("plan: bad config is refused, naming the field and the value", () => {
    for (const [what, raw, words] of BAD_CONFIG) {
        it(what, () => {
            assert.throws(() => loadLab(raw, "t", root), (e: unknown) => {
                assert.ok(e instanceof LabInputError, `not a LabInputError: ${e}`);
                assert.match(e.message, /^podnet-lab refused its input \(nothing was created\):/);
                for (const w of words) { assert.ok(e.message.includes(w), `message lacks '${w}':\n${e.message}`); }
                return true;
            });
        });
    }
});

const GOOD_CONTAINER = `{name: web, image: "nginx:1.27"}`;
const BAD_PODS: [string, string, string[]][] = [
    ["invalid DNS-1123 pod name", `apiVersion: v1\nkind: Pod\nmetadata: {name: My_Pod}\nspec: {containers: [${GOOD_CONTAINER}]}`, ["t.yaml: metadata.name is \"My_Pod\"", "DNS-1123"]],
    ["invalid container name", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: Web, image: "nginx:1.27"}]}`, ["spec.containers[0].name is \"Web\""]],
    ["unsupported Pod field", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostNetwork: true, containers: [${GOOD_CONTAINER}]}`, ["spec.hostNetwork is not supported", "spec.nodeName, spec.containers"]],
    ["unsupported container field", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: web, image: "nginx:1.27", volumeMounts: []}]}`, ["spec.containers[0].volumeMounts is not supported"]],
    ["env valueFrom", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: web, image: "nginx:1.27", env: [{name: A, valueFrom: {}}]}]}`, ["spec.containers[0].env[0].valueFrom is not supported"]],
    ["duplicate ports in a pod (S3)", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: "nginx:1.27", ports: [{containerPort: 80}]}, {name: b, image: "nginx:1.27", ports: [{containerPort: 80}]}]}`, ["containers 'a' and 'b' both declare port 80/TCP", "share one network namespace"]],
    ["port out of range", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: "nginx:1.27", ports: [{containerPort: 70000}]}]}`, ["spec.containers[0].ports[0].containerPort is 70000"]],
    ["bad protocol", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: "nginx:1.27", ports: [{containerPort: 80, protocol: HTTP}]}]}`, ["protocol is \"HTTP\"", "TCP, UDP, SCTP"]],
    ["not a Pod", `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p}\nspec: {containers: [${GOOD_CONTAINER}]}`, ["apiVersion/kind are \"apps/v1\"/\"Deployment\""]],
    ["no containers", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}`, ["spec.containers is []"]],
    ["not YAML", `apiVersion: v1\nkind: [`, ["t.yaml: not valid YAML"]],
    ["duplicate pod names", web("twin") + web("twin"), ["metadata.name 'twin' is already the name of a pod"]],
    ["duplicate container names", `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [${GOOD_CONTAINER}, ${GOOD_CONTAINER}]}`, ["two containers named 'web'"]],
];

describe("pods: bad manifests are refused, naming the file, the field and the value", () => {
    for (const [what, yaml, words] of BAD_PODS) {
        it(what, () => {
            const r = parsePodManifests([{ path: "t.yaml", text: yaml }]);
            const msg = r.problems.all.join("\n");
            assert.ok(r.problems.count > 0, "accepted");
            for (const w of words) { assert.ok(msg.includes(w), `message lacks '${w}':\n${msg}`); }
        });
    }

    it("a pod named like a node is refused", () => {
        const r = planLab(config(), pods(web("node2")), "t");
        assert.match(r.problems.all.join("\n"), /metadata\.name 'node2' is the name of a node/);
        assert.match(planLab(config(), pods(web("node9")), "t").problems.all.join("\n"), /'node9' is the name of a node/, "also a node a larger lab would have");
    });

    it("a node subnet too small for its pods is refused", () => {
        const r = planLab(config({ nodeSubnetPrefix: "30", nodeCount: "1" }), pods(web("a") + web("b")), "t");
        assert.match(r.problems.all.join("\n"), /node1's pod subnet 10\.244\.0\.4\/30 has room for 1 pod\(s\), but 2 are placed on it \(a, b\)/);
    });

    it("a missing manifest path is refused", () => {
        assert.throws(() => loadLab({ pods: JSON.stringify(["nope"]) }, "t", root), /podnet-lab:pods names 'nope', which does not exist/);
    });

    it("every problem is reported at once", () => {
        try { loadLab({ nodeCount: "0", bridgeName: "x".repeat(20), nodeSecurity: "x" }, "t", root); assert.fail("accepted"); }
        catch (e) { assert.equal((e as LabInputError).problems.length, 3); }
    });

    it("the shipped manifests map to typed Kubernetes Pods with their node", () => {
        const p = loadLab({}, "dev", root).plan.pods.find((x) => x.name === "pod-net-test")!;
        assert.equal(path.basename(p.source.source), "pod-net-test.yaml");
        assert.deepEqual(p.source.containers[1].command, ["/bin/sh", "-c", "while : ;do sleep 5; done"]);
    });
});

describe("the pod network models (plan/models.ts), one function each", () => {
    const inputs = { names: ["node1", "node2", "node3"], lanIps: ["192.168.1.11", "192.168.1.12", "192.168.1.13"], cluster: parseCidr("10.244.0.0/16")!, nodeSubnetPrefix: 24, bridgeName: "v-net-0" };
    const rows: [string, (m: ModelInputs) => NodeNetwork[], string[]][] = [
        ["routed", routedModel, ["10.244.1.0/24 v-net-0 mtu 1500 cni routes 10.244.2.0/24 via 192.168.1.12, 10.244.3.0/24 via 192.168.1.13"]],
        ["overlay", overlayModel, ["10.244.1.0/24 v-net-0 mtu 1450 cni vxlan.1 10.244.1.0 peers 10.244.2.0/24 at 10.244.2.0 behind 192.168.1.12, 10.244.3.0/24 at 10.244.3.0 behind 192.168.1.13"]],
        ["before", beforeModel, ["172.17.0.0/16 docker0 mtu 1500"]],
    ];
    const describeNode = (n: NodeNetwork) => [
        formatCidr(n.subnet), n.bridge, `mtu ${n.podMtu}`, ...(n.cni ? ["cni"] : []),
        ...(n.routes.length ? [`routes ${n.routes.map((r) => `${r.to} via ${r.via}`).join(", ")}`] : []),
        ...(n.vxlan ? [`${n.vxlan.device} ${n.vxlan.vtepIp}`, `peers ${n.vxlanPeers.map((p) => `${p.to} at ${p.vtepIp} behind ${p.lanIp}`).join(", ")}`] : []),
    ].join(" ");
    for (const [name, model, node1] of rows) {
        it(`${name}: node1 is ${node1[0]}`, () => {
            const nodes = model(inputs);
            assert.equal(nodes.length, 3);
            assert.equal(describeNode(nodes[0]), node1[0]);
        });
    }
    it("each podNetwork value names its model", () => {
        assert.deepEqual(NETWORK_MODELS, { lab: routedModel, vxlan: overlayModel, docker0: beforeModel });
    });
});
