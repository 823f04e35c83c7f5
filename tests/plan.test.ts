// Table tests of the pure plan: valid labs of 1, 3 and 20 nodes, and bad inputs refused with the culprit named.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { parseLabConfig } from "../plan/config";
import { LabInputError } from "../plan/errors";
import { formatCidr, overlaps, parseCidr, Cidr } from "../plan/ip";
import { loadLab, projectRoot } from "../plan/load";
import { LabPlan, planLab } from "../plan/plan";
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
        assert.deepEqual(p.nodes.map((n) => `${n.name} ${n.lanIp} ${n.podCidr} ${n.bridgeCidr} ${n.apiPort}`), [
            "node1 192.168.1.11 10.244.1.0/24 10.244.1.1/24 23761",
            "node2 192.168.1.12 10.244.2.0/24 10.244.2.1/24 23762",
            "node3 192.168.1.13 10.244.3.0/24 10.244.3.1/24 23763",
        ]);
    });

    it("other prefixes: /20 cluster with /26 node subnets", () => {
        const p = plan({ clusterCidr: "10.8.0.0/20", nodeSubnetPrefix: "26", nodeCount: "4" });
        assert.deepEqual(p.nodes.map((n) => n.podCidr), ["10.8.0.64/26", "10.8.0.128/26", "10.8.0.192/26", "10.8.1.0/26"]);
    });

    it("placement: nodeName wins; the rest go round-robin in name order; IPs follow the bridge in name order", () => {
        const p = plan({}, pods(web("c") + web("a") + web("pinned", "node3") + web("b") + web("d")));
        assert.deepEqual(p.pods.map((x) => `${x.name}@${x.node}=${x.ip}`).sort(), [
            "a@node1=10.244.1.2", "b@node2=10.244.2.2", "c@node3=10.244.3.2", "d@node1=10.244.1.3", "pinned@node3=10.244.3.3",
        ]);
        const c = p.pods.find((x) => x.name === "c")!;
        assert.equal(c.gateway, "10.244.3.1");
        assert.equal(c.ipCidr, "10.244.3.2/24");
        assert.equal(c.sandbox, "k8s_POD_c");
        assert.equal(c.containers[0].container, "k8s_web_c");
        assert.match(c.hostVeth, /^veth[0-9a-f]{8}$/);
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

    it("unknown nodeName names the pod and the lab's nodes", () => {
        const r = planLab(config(), pods(web("lost", "node7")), "t");
        assert.match(r.problems.all.join("\n"), /spec\.nodeName 'node7' is not a node of this lab; nodes: node1, node2, node3/);
    });

    it("a pod named like a node is refused", () => {
        const r = planLab(config(), pods(web("node2")), "t");
        assert.match(r.problems.all.join("\n"), /metadata\.name 'node2' is the name of a node/);
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
