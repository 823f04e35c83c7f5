// The whole program under recording mocks with the seeds' config: what it declares, how, and what it exports.
import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DEV_CONFIG, Run, runProgram } from "./harness";
import { FAKE_CREDS } from "./mocks";

const T = {
    container: "docker:index/container:Container",
    command: "command:local:Command",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    remote: "docker:index/remoteImage:RemoteImage",
    image: "docker:index/image:Image",
    dockerProvider: "pulumi:providers:docker",
    k8sProvider: "pulumi:providers:kubernetes",
    pod: "kubernetes:core/v1:Pod",
};

let run: Run;
before(async () => { run = await runProgram(DEV_CONFIG); });

const names = (type: string) => run.mocks.ofType(type).map((r) => r.name).sort();
describe("resources declared for the seeds' lab (3 nodes, 4 pods)", () => {
    it("counts resources by type", () => {
        const count = (t: string) => run.mocks.ofType(t).length;
        assert.equal(count(T.network), 1);
        assert.equal(count(T.volume), 3);
        assert.equal(count(T.image), 1, "node image built from node/Dockerfile");
        // pause + nginx + ubuntu images on the host, preloaded into 3 nodes
        assert.equal(count(T.remote), 3);
        assert.equal(count(T.dockerProvider), 3, "one provider per node");
        // 3 node containers + 4 pause + 5 app containers
        assert.equal(count(T.container), 3 + 4 + 5);
        // per node: ready, bridge, 2 routes, 3 image loads = 7; plus 4 pod CNI commands
        assert.equal(count(T.command), 3 * 7 + 4);
        assert.equal(count(T.k8sProvider), 1);
        assert.equal(count(T.pod), 4);
    });

    it("names resources from identity", () => {
        assert.deepEqual(names(T.container), [
            "node1-container", "node2-container", "node3-container",
            "pod-net-test-nginx", "pod-net-test-pause", "pod-net-test-ubuntu",
            "web-1-nginx", "web-1-pause", "web-2-nginx", "web-2-pause", "web-3-nginx", "web-3-pause",
        ]);
        assert.deepEqual(names(T.command).filter((n) => n.includes("route")), [
            "node1-route-to-node2", "node1-route-to-node3", "node2-route-to-node1",
            "node2-route-to-node3", "node3-route-to-node1", "node3-route-to-node2",
        ]);
        assert.deepEqual(names(T.command).filter((n) => n.endsWith("-net")), ["pod-net-test-net", "web-1-net", "web-2-net", "web-3-net"]);
        assert.deepEqual(names(T.remote), ["image-nginx-1-27", "image-registry-k8s-io-pause-3-10", "image-ubuntu-24-04"]);
    });

    it("parents make the preview a tree: lab -> node -> bridge, routes, pods -> pause -> containers", () => {
        assert.deepEqual(run.ancestors("node1-bridge"), ["node1", "lab"]);
        assert.deepEqual(run.ancestors("node1-route-to-node3"), ["node1", "lab"]);
        assert.deepEqual(run.ancestors("node2-provider"), ["node2", "lab"]);
        assert.deepEqual(run.ancestors("web-2"), ["node2", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-pause"), ["pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-net"), ["pod-net-test-pause", "pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-nginx"), ["pod-net-test-pause", "pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-manifest"), ["manifests", "lab"]);
        assert.deepEqual(run.ancestors("lab"), []);
    });
});

describe("nodes", () => {
    it("each node container has its LAN IP, hostname, volume, API port on loopback and labels", () => {
        for (const i of [1, 2, 3]) {
            const c = run.mocks.named(`node${i}-container`).inputs;
            assert.equal(c.name, `podnet-dev-node${i}`);
            assert.equal(c.hostname, `node${i}`);
            assert.deepEqual(c.networksAdvanced, [{ name: "podnet-dev-lan", ipv4Address: `192.168.1.${10 + i}` }]);
            assert.deepEqual(c.ports, [{ internal: 2376, external: 23760 + i, ip: "127.0.0.1" }]);
            assert.deepEqual(c.volumes, [{ volumeName: `podnet-dev-node${i}-docker`, containerPath: "/var/lib/docker" }]);
            assert.equal(c.privileged, true);
            assert.deepEqual(c.sysctls, { "net.ipv4.ip_forward": "1" });
            assert.deepEqual(c.labels, [{ label: "podnet-lab.project", value: "podnet-lab" }, { label: "podnet-lab.stack", value: "dev" }]);
            assert.deepEqual(c.uploads.map((u: { file: string }) => u.file).sort(), [
                "/usr/local/bin/podnet-bridge", "/usr/local/bin/podnet-cni", "/usr/local/bin/podnet-node-entrypoint", "/usr/local/bin/podnet-node-ready",
            ]);
            assert.equal(c.image, "podnet-lab/node:27.5.1");
        }
    });

    it("the LAN has an explicit subnet and gateway", () => {
        const lan = run.mocks.named("lan").inputs;
        assert.deepEqual(lan.ipamConfigs, [{ subnet: "192.168.1.0/24", gateway: "192.168.1.1" }]);
        assert.equal(lan.name, "podnet-dev-lan");
    });

    it("each node's provider talks mutual TLS to 127.0.0.1 with the credentials read from the node", () => {
        for (const i of [1, 2, 3]) {
            const p = run.mocks.named(`node${i}-provider`).inputs;
            assert.equal(p.host, `tcp://127.0.0.1:${23760 + i}`);
            assert.equal(p.caMaterial, FAKE_CREDS.ca);
            assert.equal(p.certMaterial, FAKE_CREDS.cert);
            assert.equal(p.keyMaterial, FAKE_CREDS.key);
        }
    });

    it("every route sends a peer's pod subnet via that peer's LAN IP, and deletes it on destroy", () => {
        for (const i of [1, 2, 3]) {
            for (const j of [1, 2, 3].filter((j) => j !== i)) {
                const r = run.mocks.named(`node${i}-route-to-node${j}`).inputs;
                assert.equal(r.create, `docker exec podnet-dev-node${i} ip route replace 10.244.${j}.0/24 via 192.168.1.${10 + j}`);
                assert.match(r.delete, new RegExp(`docker exec podnet-dev-node${i} ip route del 10\\.244\\.${j}\\.0/24 via 192\\.168\\.1\\.${10 + j}`));
            }
        }
    });

    it("each node's bridge gets the first address of its own subnet", () => {
        for (const i of [1, 2, 3]) {
            const b = run.mocks.named(`node${i}-bridge`).inputs;
            assert.equal(b.create, `docker exec podnet-dev-node${i} podnet-bridge add v-net-0 10.244.${i}.1/24 10.244.${i}.0/24 10.244.0.0/16`);
            assert.match(b.delete, /podnet-bridge del v-net-0/);
        }
    });

    it("preloads every image into every node (node x image), from the host images", () => {
        const loads = names(T.command).filter((n) => n.includes("-load-"));
        assert.equal(loads.length, 9);
        for (const i of [1, 2, 3]) {
            const l = run.mocks.named(`node${i}-load-nginx-1-27`).inputs;
            assert.equal(l.create, `docker save nginx:1.27 | docker exec -i podnet-dev-node${i} sh -c 'docker load -q >/dev/null && docker image inspect -f '\\''{{.Id}}'\\'' nginx:1.27'`);
        }
        for (const r of run.mocks.ofType(T.remote)) { assert.ok(!r.provider, `${r.name} is on the host's default provider`); assert.equal(r.inputs.keepLocally, true); }
    });
});

describe("pods", () => {
    it("the pause container owns the namespace (network none) on its node's provider", () => {
        const pause = run.mocks.named("pod-net-test-pause");
        assert.equal(pause.inputs.networkMode, "none");
        assert.equal(pause.inputs.name, "k8s_POD_pod-net-test");
        assert.equal(pause.inputs.image, "sha256:loaded-by-node1-load-registry-k8s-io-pause-3-10");
        assert.match(pause.provider ?? "", /node1-provider/);
    });

    it("app containers join the pause container by id (container:<pause id>)", () => {
        for (const [pod, app, node] of [["pod-net-test", "nginx", 1], ["pod-net-test", "ubuntu", 1], ["web-2", "nginx", 2]] as const) {
            const c = run.mocks.named(`${pod}-${app}`);
            assert.equal(c.inputs.networkMode, `container:${pod}-pause-id`);
            assert.equal(c.inputs.name, `k8s_${app}_${pod}`);
            assert.match(c.provider ?? "", new RegExp(`node${node}-provider`));
        }
        assert.deepEqual(run.mocks.named("pod-net-test-ubuntu").inputs.entrypoints, ["/bin/sh", "-c", "while : ;do sleep 5; done"]);
    });

    it("the CNI ADD wires the pause container's namespace with the planned IP; delete runs DEL", () => {
        const net = run.mocks.named("web-3-net").inputs;
        assert.match(net.create, /^docker exec podnet-dev-node3 podnet-cni ADD web-3 web-3-pause-id 10\.244\.3\.2\/24 10\.244\.3\.1 veth[0-9a-f]{8} v-net-0$/);
        assert.match(net.delete, /docker exec podnet-dev-node3 podnet-cni DEL web-3 veth[0-9a-f]{8}; fi$/);
    });

    it("renders the pods as manifests through a render-only Kubernetes provider", () => {
        const p = run.mocks.ofType(T.k8sProvider)[0];
        assert.match(p.inputs.renderYamlToDirectory, /rendered\/dev$/);
        const m = run.mocks.named("pod-net-test-manifest").inputs;
        assert.equal(m.kind, "Pod");
        assert.equal(m.spec.nodeName, "node1");
        assert.deepEqual(m.spec.containers.map((c: { name: string }) => c.name), ["nginx", "ubuntu"]);
    });
});

describe("stack outputs (the contract)", () => {
    it("lan, clusterCidr, nodes with routes", () => {
        const o = run.outputs;
        assert.deepEqual(o.lan, { network: "podnet-dev-lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" });
        assert.equal(o.clusterCidr, "10.244.0.0/16");
        assert.deepEqual(o.nodes[0], {
            name: "node1", container: "podnet-dev-node1", lanIp: "192.168.1.11", podCidr: "10.244.1.0/24",
            bridge: "v-net-0", bridgeIp: "10.244.1.1",
            routes: [{ to: "10.244.2.0/24", via: "192.168.1.12" }, { to: "10.244.3.0/24", via: "192.168.1.13" }],
        });
    });

    it("pods with node, IP, sandbox and containers", () => {
        const byName = Object.fromEntries(run.outputs.pods.map((p: { name: string }) => [p.name, p]));
        assert.deepEqual(byName["pod-net-test"], {
            name: "pod-net-test", node: "node1", ip: "10.244.1.2", sandbox: "k8s_POD_pod-net-test",
            containers: [
                { name: "nginx", container: "k8s_nginx_pod-net-test", image: "nginx:1.27" },
                { name: "ubuntu", container: "k8s_ubuntu_pod-net-test", image: "ubuntu:24.04" },
            ],
        });
        assert.deepEqual(run.outputs.pods.map((p: { name: string; node: string; ip: string }) => `${p.name}@${p.node}=${p.ip}`).sort(),
            ["pod-net-test@node1=10.244.1.2", "web-1@node1=10.244.1.3", "web-2@node2=10.244.2.2", "web-3@node3=10.244.3.2"]);
    });

    it("the diagram names the real nodes, addresses and subnets", () => {
        const d: string = run.outputs.diagram;
        for (const s of ["node1", "podnet-dev-node3", "192.168.1.12", "10.244.3.0/24", "bridge v-net-0", "pod web-2 10.244.2.2", "podnet-dev-lan 192.168.1.0/24"]) {
            assert.ok(d.includes(s), `diagram lacks ${s}:\n${d}`);
        }
    });
});
