// The cockpit's pure parts on fixed inputs: parsing `ip` and probe-server output, declared-vs-live comparison,
// the matrix verdict and table, and the SVG.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseCniView, renderCni } from "../cockpit/cni";
import { loadOutputs } from "../cockpit/live";
import { parseArgs } from "../cockpit/main";
import { modelHolds, Pair, pairHolds, probedIpNotes, renderMatrix, servicePair, serviceTargets } from "../cockpit/matrix";
import { parseAddrs, parseLinks, parseProbeLog, parseRouteGet, sections } from "../cockpit/parse";
import { applyLiveIps, builtBy, liveIpScript, parseLiveIps, podRuntimeLine, podsWithBuiltBy, runtimeOf } from "../cockpit/runtime";
import { compare, nodeScript, parseApiPods, parseNodeReport } from "../cockpit/status";
import { COLORS, pairColor, renderSvg, textWidth } from "../cockpit/svg";
import { renderTrace } from "../cockpit/trace";
import { AnyLabOutputs } from "../plan/outputs";
import { labOutputs } from "./lab-outputs";

// Outputs as a lab older than docker0, the overlay, the plugin swap and kubelet mode has them (AnyLabOutputs): no
// podNetwork, cniPlugin, podRuntime, nodes' podMtu or pods' runtime.
const OUT: AnyLabOutputs = {
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
    diagram: "(the picture)",
    renderedManifests: "rendered/t",
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

    it("cluster mode: the API server's pod IP is shown beside the live one; a Pod object missing, or an IP the API does not say, is a difference", () => {
        assert.deepEqual([...parseApiPods(JSON.stringify({ items: [{ metadata: { name: "a" }, status: { podIP: "10.244.1.2" } }, { metadata: { name: "b" }, status: {} }] }))],
            [["a", "10.244.1.2"], ["b", ""]]);
        const same = compare(OUT, OUT.nodes[0], true, report(), new Map([["a", "10.244.1.2"]]));
        assert.deepEqual([same.differences, same.pods[0].apiIp], [[], "10.244.1.2"]);
        assert.deepEqual(compare(OUT, OUT.nodes[0], true, report(), new Map([["a", "10.244.1.9"]])).differences, ["a: the API server says 10.244.1.9, eth0 has 10.244.1.2"]);
        assert.deepEqual(compare(OUT, OUT.nodes[0], true, report(), new Map()).differences, ["a: the API server has no Pod default/a"]);
        assert.equal(compare(OUT, OUT.nodes[0], true, report()).pods[0].apiIp, undefined, "no control plane: no API column");
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
        const out: AnyLabOutputs = { ...OUT, podNetwork: "vxlan", nodes: [node, OUT.nodes[1]] };
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

    it("docker mode: each pod built by the lab's steps; its containers read from the node's Docker; no notes", () => {
        const r = compare(OUT, OUT.nodes[0], true, report());
        assert.deepEqual([r.pods[0].runtime, r.pods[0].builtBy, r.pods[0].kubeletName], ["docker", "built by the lab's steps (docker)", undefined]);
        assert.deepEqual(r.notes, []);
        assert.match(nodeScript("v-net-0", ["a"]), /docker ps -a/);
        assert.doesNotMatch(nodeScript("v-net-0", ["a"]), /podnet-kubelet/);
        // In docker mode another live IP is a difference, as before.
        const moved = compare(OUT, OUT.nodes[0], true, report({ pod: "2: eth0    inet 10.244.1.9/24 scope global eth0\n2: eth0@if7: <UP> mtu 1500" }));
        assert.deepEqual([moved.differences, moved.notes], [["a: eth0 has 10.244.1.9, declared 10.244.1.2"], []]);
    });
});

describe("cockpit: kubelet mode (status, live IPs)", () => {
    // Two pods on node1 with a container of the same name (nginx): their containers are told apart by pod.
    const K: AnyLabOutputs = {
        ...OUT, podRuntime: "kubelet",
        pods: [
            { name: "a", node: "node1", ip: "10.244.1.2", sandbox: "a-node1", runtime: "kubelet", manifest: "/etc/kubernetes/manifests/a.yaml", containers: [{ name: "nginx", container: "nginx", image: "nginx:1.27" }] },
            { name: "c", node: "node1", ip: "10.244.1.3", sandbox: "c-node1", runtime: "kubelet", manifest: "/etc/kubernetes/manifests/c.yaml", containers: [{ name: "nginx", container: "nginx", image: "nginx:1.27" }] },
            { name: "b", node: "node2", ip: "10.244.2.2", sandbox: "b-node2", runtime: "kubelet", manifest: "/etc/kubernetes/manifests/b.yaml", containers: [{ name: "nginx", container: "nginx", image: "nginx:1.27" }] },
        ],
    };
    const eth0 = (ip: string, peer: number) => `2: eth0    inet ${ip}/24 scope global eth0\n2: eth0@if${peer}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500`;
    const report = (over: { a?: string; c?: string; aIp?: string; manifests?: string } = {}) => parseNodeReport([
        "@addr", "3: v-net-0    inet 10.244.1.1/24 scope global v-net-0",
        "@bridgelink", "3: v-net-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500",
        "@routes", "10.244.2.0/24 via 192.168.1.12 dev eth0",
        "@links", "3: v-net-0: <UP,LOWER_UP> mtu 1500\n7: vethaaaa@if2: <UP,LOWER_UP> mtu 1500 master v-net-0\n8: vethcccc@if2: <UP,LOWER_UP> mtu 1500 master v-net-0",
        "@kubelet a", over.a ?? "POD 0d92 612\nnginx 4aa1 641",
        "@kubelet c", over.c ?? "POD 77ab 700\nnginx 88cd 731",
        "@manifests", over.manifests ?? "/etc/kubernetes/manifests/a.yaml\n/etc/kubernetes/manifests/c.yaml",
        "@agent", "running",
        "@pod a", eth0(over.aIp ?? "10.244.1.2", 7),
        "@pod c", eth0("10.244.1.3", 8),
    ].join("\n"));

    it("the node script asks containerd (podnet-kubelet) per pod, and looks for each static pod's manifest; not the node's Docker", () => {
        const script = nodeScript("v-net-0", ["a", "c"], { node: "node1", manifests: ["/etc/kubernetes/manifests/a.yaml", "/etc/kubernetes/manifests/c.yaml"] });
        assert.match(script, /echo @kubelet a; podnet-kubelet containers a node1/);
        assert.match(script, /echo @kubelet c; podnet-kubelet containers c node1/);
        assert.match(script, /ls -1d \/etc\/kubernetes\/manifests\/a\.yaml \/etc\/kubernetes\/manifests\/c\.yaml/);
        assert.doesNotMatch(script, /docker ps/);
    });

    it("as created: no difference, no note; each pod says kubelet built it, from which manifest, under which name", () => {
        const r = compare(K, K.nodes[0], true, report());
        assert.deepEqual([r.differences, r.notes], [[], []]);
        assert.deepEqual(r.pods.map((p) => [p.name, p.sandboxState, p.containers.map((c) => `${c.name} ${c.state}`).join(), p.veth]),
            [["a", "running", "nginx running", "vethaaaa"], ["c", "running", "nginx running", "vethcccc"]]);
        assert.equal(r.pods[0].builtBy, "built by kubelet (static pod /etc/kubernetes/manifests/a.yaml, kubelet name a-node1)");
        assert.deepEqual([r.pods[0].runtime, r.pods[0].kubeletName, r.pods[0].manifest], ["kubelet", "a-node1", "/etc/kubernetes/manifests/a.yaml"]);
    });

    it("containers keyed per pod: c's nginx stopped is c's difference, not a's", () => {
        const r = compare(K, K.nodes[0], true, report({ c: "POD 77ab 700" }));
        assert.deepEqual(r.differences, ["c: container nginx is not running"]);
        assert.equal(r.pods[0].containers[0].state, "running");
        const gone = compare(K, K.nodes[0], true, report({ a: "", manifests: "/etc/kubernetes/manifests/c.yaml" }));
        assert.deepEqual(gone.differences, [
            "a: its static pod manifest /etc/kubernetes/manifests/a.yaml is not on node1",
            "a: sandbox a-node1 is not running",
            "a: container nginx is not running",
        ]);
    });

    it("a new sandbox's new IP in the node's subnet is a note, not a difference; outside the subnet, or none, is a difference", () => {
        const r = compare(K, K.nodes[0], true, report({ aIp: "10.244.1.7" }));
        assert.deepEqual(r.differences, []);
        assert.deepEqual(r.notes, ["a: a new sandbox has 10.244.1.7 (the stack output says 10.244.1.2: kubelet mode gives a new sandbox a new IP, as Kubernetes does)"]);
        assert.equal(r.pods[0].liveIp, "10.244.1.7");
        const wrong = compare(K, K.nodes[0], true, report({ aIp: "10.244.2.7" }));
        assert.deepEqual([wrong.differences, wrong.notes], [["a: eth0 has 10.244.2.7, outside node1's pod subnet 10.244.1.0/24"], []]);
    });

    it("builtBy: from the pod's runtime, else the lab's podRuntime; docker for outputs older than kubelet mode", () => {
        const p = { ...K.pods[0], runtime: undefined, manifest: undefined };
        assert.match(builtBy(K, p), /^built by kubelet \(static pod \/etc\/kubernetes\/manifests\/a\.yaml, kubelet name a-node1\)$/);
        assert.equal(builtBy({ ...K, podRuntime: undefined }, p), "built by the lab's steps (docker)");
    });

    it("runtimeOf: the PodRuntime the outputs name; absent (older outputs): docker; one this cockpit does not know is refused, not shown as docker", () => {
        assert.equal(runtimeOf(K, K.pods[0]), "kubelet");
        assert.equal(runtimeOf({ ...K, podRuntime: undefined }, { ...K.pods[0], runtime: undefined }), "docker");
        const unknown = { ...K.pods[0], runtime: "cri-o" } as unknown as AnyLabOutputs["pods"][number];
        assert.throws(() => runtimeOf(K, unknown), /pod a: runtime 'cri-o' is not one this cockpit knows \(docker, kubelet, cluster\)/);
    });

    it("what the page gets: each pod with its runtime and built-by line, and the lab's runtime in a line", () => {
        assert.deepEqual(podsWithBuiltBy(K).map((p) => [p.name, p.runtime, p.builtBy]), K.pods.map((p) => [p.name, "kubelet", builtBy(K, p)]));
        assert.equal(podRuntimeLine(K), "kubelet (static pods, containerd)");
        assert.equal(podRuntimeLine({ ...K, podRuntime: undefined }), "docker (the lab's steps)");
    });

    it("live IPs: read per pod on its node; applied to kubelet pods only, each change or unread address noted", () => {
        assert.equal(liveIpScript(["a", "c"]), "echo @pod a; ip -n a -4 -o addr show dev eth0 2>/dev/null; echo @pod c; ip -n c -4 -o addr show dev eth0 2>/dev/null");
        const live = parseLiveIps("@pod a\n2: eth0    inet 10.244.1.7/24 brd 10.244.1.255 scope global eth0\n@pod c\n2: eth0    inet 10.244.1.3/24 scope global eth0\n@pod b\n");
        assert.deepEqual([...live], [["a", "10.244.1.7"], ["c", "10.244.1.3"]]);
        const k = applyLiveIps(K, live);
        assert.deepEqual(k.out.pods.map((p) => p.ip), ["10.244.1.7", "10.244.1.3", "10.244.2.2"]);
        assert.deepEqual(k.notes, [
            "a: a new sandbox has 10.244.1.7 (the stack output says 10.244.1.2: kubelet mode gives a new sandbox a new IP, as Kubernetes does)",
            "b: no live address read on node2 (is its sandbox running? see status); using the stack output's 10.244.2.2",
        ]);
        assert.equal(K.pods[0].ip, "10.244.1.2", "the outputs themselves are not changed");
        const d = applyLiveIps(OUT, new Map([["a", "10.244.1.9"]]));
        assert.deepEqual([d.out.pods.map((p) => p.ip), d.notes], [["10.244.1.2", "10.244.2.2"], []], "docker mode: the stack output's IPs");
    });

    it("the matrix table shows the address probed; a pod probed at a new sandbox's IP gets a note", () => {
        const pairs: Pair[] = [
            { from: "b", to: "a", toIp: "10.244.1.7", reached: true, sourceSeen: "10.244.2.2", nat: false, path: "across nodes" },
            { from: "a", to: "b", toIp: "10.244.2.2", reached: true, sourceSeen: "10.244.1.7", nat: false, path: "across nodes" },
        ];
        assert.match(renderMatrix(pairs, K).split("\n")[1], /^b +a \(10\.244\.1\.7\) +yes +10\.244\.2\.2 +no/);
        assert.deepEqual(probedIpNotes(pairs, K), ["a: a new sandbox has 10.244.1.7 (the stack output says 10.244.1.2: kubelet mode gives a new sandbox a new IP, as Kubernetes does)"]);
        assert.deepEqual(probedIpNotes(pairs.map(({ toIp: _, ...p }) => p), K), [], "an older saved matrix, without toIp");
    });

    it("trace: the notes of the pods traced at a new sandbox's IP are shown under its first line", () => {
        const note = "a: a new sandbox has 10.244.1.7 (the stack output says 10.244.1.2: kubelet mode gives a new sandbox a new IP, as Kubernetes does)";
        const text = renderTrace({ from: { ...K.pods[2] }, to: { ...K.pods[0], ip: "10.244.1.7" }, hops: [{ at: "pod b", what: "leaves", interface: "eth0", detail: "x" }], verdict: "across nodes", notes: [note] });
        assert.deepEqual(text.split("\n").slice(0, 2), ["trace b (10.244.2.2) -> a (10.244.1.7)", `  note: ${note}`]);
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

    it("a column per Service: who answered and what source it saw, from the conntrack entry the request made; hairpin masqueraded, as expected", () => {
        const web = { name: "web", type: "NodePort" as const, clusterIp: "10.96.0.50", ports: [{ name: "http", port: 80, targetPort: 80, protocol: "TCP" as const, nodePort: 30080 }], selector: "app=web",
            endpoints: [{ pod: "b", node: "node2", ip: "10.244.2.2" }] };
        const cluster = { ...OUT, podRuntime: "cluster" as const, services: [web] };
        const [target] = serviceTargets(cluster);
        assert.deepEqual(target, { name: "svc/web", ip: "10.96.0.50", port: 80, endpoints: ["b"] });
        assert.deepEqual(serviceTargets(OUT), [], "no Services, no columns");
        assert.deepEqual(serviceTargets({ ...cluster, services: [{ ...web, endpoints: [] }] }), [], "a Service with no endpoint: nothing could answer");
        const dns = { ...web, ports: [{ name: "dns", port: 53, targetPort: 53, protocol: "UDP" as const }, { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" as const }] };
        assert.deepEqual(serviceTargets({ ...cluster, services: [dns] }).map((x) => x.port), [53], "its first TCP port");
        assert.deepEqual(serviceTargets({ ...cluster, services: [{ ...dns, ports: [dns.ports[0]] }] }), [], "UDP only: no HTTP request to send");
        const old = "ipv4 2 tcp 6 80 TIME_WAIT src=10.244.1.2 dst=10.96.0.50 sport=40000 dport=80 src=10.244.2.2 dst=10.244.1.2 sport=80 dport=40000 [ASSURED] mark=0 use=1";
        const made = "ipv4 2 tcp 6 119 TIME_WAIT src=10.244.1.2 dst=10.96.0.50 sport=41234 dport=80 src=10.244.2.2 dst=10.244.1.2 sport=80 dport=41234 [ASSURED] mark=0 use=1";
        // The older entry's timeout has counted down between the two reads: it is still not the request's.
        const parts = new Map([["svc/web before", old], ["svc/web answer", "HTTP/1.0 200 OK"], ["svc/web after", `${old.replace(" 80 TIME", " 79 TIME")}\n${made}`]]);
        const a = servicePair(cluster.pods[0], target, parts, cluster.pods);
        assert.deepEqual(a, { from: "a", to: "svc/web", toIp: "10.96.0.50:80", reached: true, sourceSeen: "10.244.1.2", nat: false, path: "service", endpoint: "b" });
        assert.equal(pairHolds(a), true);
        // b asks its own Service and is chosen: kube-proxy masquerades it behind the bridge's address (hairpin).
        const self = "ipv4 2 tcp 6 119 TIME_WAIT src=10.244.2.2 dst=10.96.0.50 sport=50000 dport=80 src=10.244.2.2 dst=10.244.2.1 sport=80 dport=13722 [ASSURED] mark=0 use=1";
        const b = servicePair(cluster.pods[1], target, new Map([["svc/web before", ""], ["svc/web answer", "hello"], ["svc/web after", self]]), cluster.pods);
        assert.deepEqual([b.endpoint, b.sourceSeen, b.nat, pairHolds(b)], ["b", "10.244.2.1", true, true]);
        assert.equal(pairHolds({ ...a, nat: true, sourceSeen: "10.244.1.1" }), false, "another pod's request masqueraded");
        assert.equal(pairHolds({ ...b, nat: false }), false, "a hairpin not masqueraded");
        const lost = servicePair(cluster.pods[0], target, new Map([["svc/web before", old], ["svc/web answer", ""], ["svc/web after", old]]), cluster.pods);
        assert.deepEqual([lost.reached, lost.endpoint, lost.sourceSeen, pairHolds(lost)], [false, undefined, null, false]);
        const stray = servicePair(cluster.pods[0], target, new Map([["svc/web answer", "x"], ["svc/web after", made.replace(/src=10\.244\.2\.2 dst=10\.244\.1\.2/, "src=10.244.9.9 dst=10.244.1.2")]]), cluster.pods);
        assert.deepEqual([stray.endpoint, stray.answeredBy, pairHolds(stray)], ["10.244.9.9", "10.244.9.9", false], "an address that is none of web's endpoints");
        const t = renderMatrix([a, b, lost], cluster).split("\n");
        assert.match(t[1], /^a +svc\/web \(10\.96\.0\.50:80\) +yes, by b +10\.244\.1\.2 +no +service +ok$/);
        assert.match(t[2], /^b +svc\/web \(10\.96\.0\.50:80\) +yes, by b \(itself: hairpin\) +10\.244\.2\.1 +yes +service +ok$/);
        assert.match(t[3], /^a +svc\/web \(10\.96\.0\.50:80\) +NO +- +- +service +UNEXPECTED$/);
        const svg = renderSvg(cluster, [...pairs, a, b]);
        assert.ok(svg.includes(">svc/web</text>"), "a column for svc/web");
        assert.ok(svg.includes("a -&gt; svc/web: reached (answered by b), source seen 10.244.1.2"), svg);
        // Amber in a Service's column is the expected hairpin only; another pod's request masqueraded is red.
        assert.deepEqual([pairColor(a), pairColor(b), pairColor({ ...a, nat: true, sourceSeen: "10.244.1.1" })], [COLORS.ok, COLORS.masq, COLORS.fail]);
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

    it("kubelet mode: the call containerd made, as the podnet plugin logged it under kubelet's name; portmap's call is named as not logged", () => {
        const byContainerd = JSON.stringify({ ...JSON.parse(call("podnet", result)), pod: "a-node1", caller: "containerd", op: "runtime:abc:ADD" });
        const v = parseCniView("a", "node1", `${conflist}\n@@podnet-cni-last\n${byContainerd}\n`, "a-node1");
        assert.equal(v.kubeletName, "a-node1");
        const text = renderCni(v);
        assert.match(text, /^pod a on node1 \(kubelet name a-node1\): its last CNI ADD, as containerd ran it for kubelet$/m);
        assert.match(text, /^\(containerd runs every plugin of the list; only the podnet plugin logs the calls it gets, so the call to portmap is not shown\)$/m);
        assert.match(text, /^1\. podnet: exit 0 at 2026-12-01T00:00:00Z, called by containerd$/m);
        assert.doesNotMatch(text, /^2\./m);
        const none = renderCni(parseCniView("a", "node1", `${conflist}\n@@podnet-cni-last\n`, "a-node1"));
        assert.match(none, /no ADD logged for a-node1 on node1 \(the podnet plugin logs each call containerd makes to it; /);
        const bridge = JSON.stringify({ cniVersion: "1.0.0", name: "podnet", plugins: [{ type: "bridge" }, { type: "portmap" }] });
        assert.match(renderCni(parseCniView("a", "node1", `${bridge}\n@@podnet-cni-last\n`, "a-node1")),
            /no ADD logged for a-node1 on node1 \(containerd ran bridge -> portmap, and only the lab's podnet plugin logs the calls it gets; /);
    });

    it("no configuration and no logged ADD: says so", () => {
        const v = parseCniView("a", "node1", "@@podnet-cni-last\n");
        assert.equal(v.conflist, null);
        assert.match(renderCni(v), /configuration \/etc\/cni\/net\.d\/10-podnet\.conflist: none\n\nno ADD logged for a on node1/);
    });
});

describe("cockpit: the outputs it reads", () => {
    it("drops the admin kubeconfig (a secret of cluster mode): no verb prints it and serve never sends it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-outputs-"));
        try {
            const file = path.join(dir, "outputs.json");
            fs.writeFileSync(file, JSON.stringify({ ...labOutputs(3), kubeconfig: "apiVersion: v1\nclient-key-data: c2VjcmV0" }));
            const out = loadOutputs(file);
            assert.equal("kubeconfig" in out, false);
            assert.ok(!JSON.stringify(out).includes("client-key-data"));
            assert.equal(out.nodes.length, 3, "the rest is read as it is");
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
});
