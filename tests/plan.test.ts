// Table tests of the pure plan: valid labs of 1, 3 and 20 nodes, and bad inputs refused with the culprit named.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { parseLabConfig } from "../plan/config";
import { LabInputError } from "../plan/errors";
import { formatCidr, overlaps, parseCidr, Cidr } from "../plan/ip";
import { loadLab, projectRoot } from "../plan/load";
import { LabPlan, planLab, rendezvousNode } from "../plan/plan";
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
                    assert.equal(r.resourceName, `${node.name}-route-to-${peer.name}`);
                }
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
        assert.match(c.hostVeth, /^veth[0-9a-f]{8}$/);
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
