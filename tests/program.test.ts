// The whole program under recording mocks with the seeds' config: what it declares, how, and what it exports.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { projectRoot } from "../plan/load";
import { DEV_CONFIG, Run, runProgram } from "./harness";

const T = {
    container: "docker:index/container:Container",
    command: "command:local:Command",
    remote: "docker:index/remoteImage:RemoteImage",
    image: "docker:index/image:Image",
    k8sProvider: "pulumi:providers:kubernetes",
    pod: "kubernetes:core/v1:Pod",
};

let run: Run;
before(async () => { run = await runProgram(DEV_CONFIG); });

/** The id the mocks give an image loaded into a node (tests/mocks.ts). */
const loadedId = (node: string, ref: string) => `sha256:${createHash("sha256").update(`${node}-images ${ref}`).digest("hex")}`;
const names = (type: string) => run.mocks.ofType(type).map((r) => r.name).sort();
describe("resources declared for the seeds' lab (3 nodes, 4 pods)", () => {
    it("counts resources by type", () => {
        const count = (t: string) => run.mocks.ofType(t).length;
        assert.equal(run.mocks.resources.filter((r) => /^docker:index\/(network|volume):/.test(r.type)).length, 0,
            "the LAN is a docker network create Command; node volumes are anonymous, removed with their node");
        assert.equal(count(T.image), 1, "node image built from node/Dockerfile");
        // pause + nginx + ubuntu images on the host, preloaded into 3 nodes
        assert.equal(count(T.remote), 3);
        assert.equal(count(T.container), 3 + 1, "the node containers and the outside host: pods run through each node's own docker");
        // the lab's instance and the LAN; per node: ready, bridge, CNI configuration, its routes (one table), one image load = 5; per pod: pause, CNI, one per app container (4 + 4 + 5)
        assert.equal(count(T.command), 2 + 3 * 5 + 4 + 4 + 5);
        assert.equal(count(T.k8sProvider), 1);
        assert.equal(count(T.pod), 4);
        assert.equal(run.mocks.resources.filter((r) => r.type === "pulumi:providers:docker").length, 0, "no per-node Docker provider");
    });

    it("names resources from identity", () => {
        assert.deepEqual(names(T.container), ["node1-container", "node2-container", "node3-container", "outside"]);
        assert.deepEqual(names(T.command).filter((n) => n.includes("route")), ["node1-routes", "node2-routes", "node3-routes"]);
        assert.deepEqual(names(T.command).filter((n) => n.endsWith("-net")), ["pod-net-test-net", "web-1-net", "web-2-net", "web-3-net"]);
        assert.deepEqual(names(T.command).filter((n) => /^(pod-net-test|web-\d)-/.test(n) && !n.endsWith("-net")), [
            "pod-net-test-nginx", "pod-net-test-pause", "pod-net-test-ubuntu",
            "web-1-nginx", "web-1-pause", "web-2-nginx", "web-2-pause", "web-3-nginx", "web-3-pause",
        ]);
        assert.deepEqual(names(T.remote), ["image-nginx-1-27", "image-registry-k8s-io-pause-3-10", "image-ubuntu-24-04"]);
    });

    it("parents make the preview a tree: lab -> node -> bridge, routes, pods -> pause -> containers", () => {
        assert.deepEqual(run.ancestors("node1-bridge"), ["node1", "lab"]);
        assert.deepEqual(run.ancestors("node1-routes"), ["node1", "lab"]);
        assert.deepEqual(run.ancestors("node2-container"), ["node2", "lab"]);
        assert.deepEqual(run.ancestors("lan"), ["lab"]);
        assert.deepEqual(run.ancestors("web-2"), ["node2", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-pause"), ["pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-net"), ["pod-net-test-pause", "pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-nginx"), ["pod-net-test-pause", "pod-net-test", "node1", "lab"]);
        assert.deepEqual(run.ancestors("pod-net-test-manifest"), ["manifests", "lab"]);
        assert.deepEqual(run.ancestors("lab"), []);
    });
});

describe("lifecycle options: what update, replace and destroy do (asserted on every resource)", () => {
    const nodeOf = (name: string) => {
        const node = run.ancestors(name).find((a) => /^node\d+$/.test(a));
        assert.ok(node, `${name} is not inside a node`);
        return node;
    };

    it("every Command that changes a node is replaced on any change, deleted before its replacement, and goes with its node", () => {
        const changing = names(T.command).filter((n) => n !== "lan" && n !== "instance" && !/-(ready|cni|images|pull-.*|routes)$/.test(n));
        assert.equal(changing.length, 3 + 4 + 4 + 5, "the bridge per node; pause, CNI and apps per pod");
        for (const n of changing) {
            // (the SDK adds "triggers[*]", which the Command type declares itself)
            assert.deepEqual({ ...run.options.get(n), replaceOnChanges: run.options.get(n)?.replaceOnChanges.filter((k) => k !== "triggers[*]") }, {
                deleteBeforeReplace: true, replaceOnChanges: ["*"], deletedWith: `${nodeOf(n)}-container`,
                retainOnDelete: false, protect: false, ignoreChanges: [], beforeCreate: [],
            }, n);
            assert.ok(run.mocks.named(n).inputs.delete, `${n} has a delete`);
        }
    });

    it("read-only node steps (readiness, image loads) are replaced on any change and go with their node", () => {
        const reading = names(T.command).filter((n) => n.endsWith("-ready") || /-(images|pull-.*)$/.test(n));
        assert.equal(reading.length, 3 * 2);
        for (const n of reading) {
            const o = run.options.get(n)!;
            assert.ok(o.replaceOnChanges.includes("*"), n);
            assert.equal(o.deletedWith, `${nodeOf(n)}-container`, n);
            assert.equal(run.mocks.named(n).inputs.delete, undefined, `${n} has nothing to undo`);
        }
    });

    it("each node's CNI configuration is replaced create-before-delete (never a node without one), on any change, and goes with its node; its delete is handed the content to remove", () => {
        for (const i of [1, 2, 3]) {
            const o = run.options.get(`node${i}-cni`)!;
            assert.deepEqual({ dbr: o.deleteBeforeReplace, roc: o.replaceOnChanges.includes("*"), dw: o.deletedWith }, { dbr: false, roc: true, dw: `node${i}-container` });
            assert.match(run.mocks.named(`node${i}-cni`).inputs.delete, new RegExp(`then docker exec -i podnet-dev-node${i} podnet-cni UNCONFIG; fi$`));
        }
    });

    it("node containers are deleted before they are replaced (fixed name and LAN address), and follow a re-created LAN; before each is created, the leftover hook runs", () => {
        for (const n of names(T.container)) {
            assert.equal(run.options.get(n)!.deleteBeforeReplace, true, n);
            assert.deepEqual(run.options.get(n)!.beforeCreate, ["podnet-lab-leftover-container"], n);
            assert.deepEqual(run.mocks.named(n).inputs.labels.at(-1), { label: "podnet-lab.lan", value: "the-lan-network-id" }, n);
        }
    });

    it("the LAN is deleted before it is replaced (fixed name), on any change", () => {
        const o = run.options.get("lan")!;
        assert.equal(o.deleteBeforeReplace, true);
        assert.ok(o.replaceOnChanges.includes("*"));
        assert.equal(o.deletedWith, "");
    });

    it("rendered manifests are deleted before they are replaced (the new file has the old one's path)", () => {
        for (const n of names(T.pod)) { assert.equal(run.options.get(n)!.deleteBeforeReplace, true, n); }
    });

    it("node-side steps run again when their node container is replaced (triggers hold its id)", () => {
        for (const n of ["node1-ready", "node1-bridge", "node1-cni", "node1-routes", "node1-images"]) {
            assert.equal(run.mocks.named(n).inputs.triggers[0], "node1-container-id", n);
        }
    });

    it("a pod's app containers are replaced with their sandbox, and with a new image", () => {
        assert.deepEqual(run.mocks.named("pod-net-test-ubuntu").inputs.triggers, ["sandbox-id-of-pod-net-test", loadedId("node1", "ubuntu:24.04")]);
        assert.deepEqual(run.mocks.named("web-2-pause").inputs.triggers, ["node2-container-id", loadedId("node2", "registry.k8s.io/pause:3.10")],
            "a node re-created under its pods (refresh found it gone) re-creates them");
    });
});

describe("nodes", () => {
    it("each node container has its LAN IP, hostname, volumes, labels, and publishes nothing", () => {
        for (const i of [1, 2, 3]) {
            const c = run.mocks.named(`node${i}-container`).inputs;
            assert.equal(c.name, `podnet-dev-node${i}`);
            assert.equal(c.hostname, `node${i}`);
            assert.deepEqual(c.networksAdvanced, [{ name: "podnet-dev-lan", ipv4Address: `192.168.1.${10 + i}` }]);
            assert.equal(c.ports, undefined);
            assert.deepEqual(c.volumes, [{ containerPath: "/var/lib/docker" }, { containerPath: "/var/lib/cni" }], "anonymous: removed with the node");
            assert.equal(c.privileged, true);
            assert.deepEqual(c.sysctls, { "net.ipv4.ip_forward": "1" });
            assert.deepEqual(c.labels.slice(0, 2), [{ label: "podnet-lab.project", value: "podnet-lab" }, { label: "podnet-lab.stack", value: "dev" }]);
            // One upload: the node init, which installs every node script verbatim, then runs the entrypoint. By
            // reference (a file on the host and its hash), so the state holds neither the init nor the scripts.
            assert.deepEqual(c.uploads.map((u: { file: string }) => u.file), ["/usr/local/bin/podnet-node-init"]);
            assert.deepEqual(c.entrypoints, ["/usr/local/bin/podnet-node-init"]);
            assert.equal(c.uploads[0].content, undefined);
            assert.equal(c.uploads[0].source, ".lab/podnet-node-init", "relative to the project folder, where Pulumi runs the providers");
            const init = fs.readFileSync(path.join(projectRoot(), c.uploads[0].source), "utf8");
            assert.equal(c.uploads[0].sourceHash, createHash("sha256").update(init).digest("hex"));
            for (const f of fs.readdirSync(path.join(projectRoot(), "node", "bin"))) {
                const text = fs.readFileSync(path.join(projectRoot(), "node", "bin", f), "utf8");
                assert.ok(init.includes(`install_script /usr/local/bin/${f} <<'PODNET_SCRIPT_END'\n${text}PODNET_SCRIPT_END\n`), `${f} is not in the init verbatim`);
            }
            assert.ok(init.endsWith('exec /usr/local/bin/podnet-node-entrypoint "$@"\n'));
            assert.equal(c.image, "podnet-lab/node:27.5.1");
        }
    });

    it("the outside host: the LAN's last usable address, a web server image, labelled, deleted before replaced", () => {
        const o = run.mocks.named("outside").inputs;
        assert.equal(o.name, "podnet-dev-outside");
        assert.deepEqual(o.networksAdvanced, [{ name: "podnet-dev-lan", ipv4Address: "192.168.1.254" }]);
        assert.equal(o.image, "sha256:host-nginx:1.27", "the host's nginx image, shared with the pods'");
        assert.deepEqual(o.labels.at(-1), { label: "podnet-lab.lan", value: "the-lan-network-id" });
        assert.equal(run.options.get("outside")!.deleteBeforeReplace, true);
        assert.deepEqual(run.outputs.outside, { name: "outside", container: "podnet-dev-outside", ip: "192.168.1.254" });
    });

    it("the LAN is a Docker network with an explicit subnet and gateway, labelled with the stack and the lab's instance", () => {
        const lan = run.mocks.named("lan").inputs;
        assert.equal(lan.create, "if [ \"$(docker network inspect -f '{{index .Labels \"podnet-lab.stack\"}} {{index .Labels \"podnet-lab.instance\"}} " +
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}' podnet-dev-lan 2>/dev/null)\" = \"dev $PODNET_INSTANCE 192.168.1.0/24 \" ]; then docker network inspect -f '{{.Id}}' podnet-dev-lan; " +
            "else docker network create --driver bridge --subnet 192.168.1.0/24 --gateway 192.168.1.1 " +
            "--label podnet-lab.project=podnet-lab --label podnet-lab.stack=dev --label \"podnet-lab.instance=$PODNET_INSTANCE\" podnet-dev-lan; fi",
        "a network an interrupted up of this lab made (same stack, instance and subnet) is taken as it is");
        assert.deepEqual(lan.environment, { PODNET_INSTANCE: "0123456789abcdef" }, "the instance the lab made once");
        assert.match(run.mocks.named("instance").inputs.create, /\/dev\/urandom/);
        assert.equal(run.mocks.named("instance").inputs.delete, undefined, "nothing to undo");
        assert.deepEqual(run.options.get("instance"), {
            deleteBeforeReplace: false, replaceOnChanges: ["triggers[*]"], deletedWith: "", retainOnDelete: false, protect: false, ignoreChanges: [], beforeCreate: [],
        }, "made once: no option replaces it");
        for (const n of names(T.container)) {
            assert.deepEqual(run.mocks.named(n).inputs.labels.at(-2), { label: "podnet-lab.instance", value: "0123456789abcdef" }, n);
        }
        assert.equal(lan.delete, "if docker network inspect podnet-dev-lan >/dev/null 2>&1; then docker network rm podnet-dev-lan >/dev/null; fi");
    });

    it("each node's routes are one table: a peer's pod subnet via that peer's LAN IP, a line each; cleared on destroy", () => {
        for (const i of [1, 2, 3]) {
            const r = run.mocks.named(`node${i}-routes`).inputs;
            assert.equal(r.create, `docker exec -i podnet-dev-node${i} podnet-route set`);
            assert.equal(r.stdin, [1, 2, 3].filter((j) => j !== i).map((j) => `10.244.${j}.0/24 via 192.168.1.${10 + j}\n`).join(""));
            assert.equal(r.delete, `if [ "$(docker inspect -f '{{.State.Running}}' podnet-dev-node${i} 2>/dev/null)" = true ]; then ` +
                `docker exec podnet-dev-node${i} podnet-route clear; fi`, "undone only on a running node");
            const o = run.options.get(`node${i}-routes`)!;
            assert.deepEqual({ ...o, replaceOnChanges: o.replaceOnChanges.filter((k) => k !== "triggers[*]") }, {
                deleteBeforeReplace: true, replaceOnChanges: [], deletedWith: `node${i}-container`, retainOnDelete: false, protect: false,
                ignoreChanges: [], beforeCreate: [],
            }, "a new list of routes is an update (set runs again and keeps the routes that stay); a new node replaces it, delete first; it goes with the node");
        }
    });

    it("the node containers ignore a change of the scripts they upload: their ready step installs them in place", () => {
        for (const i of [1, 2, 3]) {
            assert.deepEqual(run.options.get(`node${i}-container`)!.ignoreChanges, ["uploads"]);
            const ready = run.mocks.named(`node${i}-ready`).inputs.create as string;
            const hash = run.mocks.named(`node${i}-container`).inputs.uploads[0].sourceHash as string;
            assert.match(hash, /^[0-9a-f]{64}$/);
            assert.ok(ready.includes(`= ${hash} ] || exit 86;`), "checks the node's init against the current one");
            assert.ok(ready.includes(`docker cp .lab/podnet-node-init podnet-dev-node${i}:/usr/local/bin/podnet-node-init.new`), "copies the current one in when it differs");
        }
        assert.deepEqual(run.options.get("outside")!.ignoreChanges, [], "the outside host uploads nothing");
    });

    it("each node's bridge gets the first address of its own subnet, and a MAC of its own made from that address", () => {
        for (const i of [1, 2, 3]) {
            const b = run.mocks.named(`node${i}-bridge`).inputs;
            assert.equal(b.create, `docker exec podnet-dev-node${i} podnet-bridge add v-net-0 10.244.${i}.1/24 0a:58:0a:f4:0${i}:01 10.244.${i}.0/24 10.244.0.0/16`);
            assert.match(b.delete, /podnet-bridge del v-net-0/);
        }
    });

    it("preloads every image into every node in one transfer per node, from the host images", () => {
        const loads = names(T.command).filter((n) => /-(images|load-.*)$/.test(n));
        assert.deepEqual(loads.sort(), ["node1-images", "node2-images", "node3-images"]);
        const refs = "registry.k8s.io/pause:3.10 nginx:1.27 ubuntu:24.04";
        for (const i of [1, 2, 3]) {
            const l = run.mocks.named(`node${i}-images`).inputs;
            assert.equal(l.create, `docker save ${refs} | docker exec -i podnet-dev-node${i} sh -c 'docker load -q >/dev/null && docker image inspect -f '\\''{{.Id}}'\\'' ${refs}'`);
            assert.deepEqual(l.triggers, [`node${i}-container-id`, ...refs.split(" ").map((r) => `sha256:host-${r}`)], "a new host image loads again");
        }
        for (const r of run.mocks.ofType(T.remote)) { assert.ok(!r.provider, `${r.name} is on the host's default provider`); assert.equal(r.inputs.keepLocally, true); }
    });
});

describe("pods", () => {
    it("the pause container owns the namespace: docker run --network none inside its node, prints its id", () => {
        const pause = run.mocks.named("pod-net-test-pause").inputs;
        assert.equal(pause.create, "docker exec podnet-dev-node1 sh -c 'docker rm -f k8s_POD_pod-net-test >/dev/null 2>&1; " +
            "docker run -d --name k8s_POD_pod-net-test --hostname pod-net-test --network none --label podnet-lab.project=podnet-lab " +
            "--label podnet-lab.stack=dev --label io.kubernetes.pod.name=pod-net-test --label io.kubernetes.container.name=POD registry.k8s.io/pause:3.10'");
        assert.match(pause.delete, / then docker exec podnet-dev-node1 sh -c 'docker rm -f k8s_POD_pod-net-test >\/dev\/null 2>&1 \|\| true'; fi$/,
            "a sandbox already gone is not an error");
    });

    it("app containers join the pause container: docker run --network container:<pause> (seed 000)", () => {
        for (const [pod, app, node] of [["pod-net-test", "nginx", 1], ["pod-net-test", "ubuntu", 1], ["web-2", "nginx", 2]] as const) {
            const c = run.mocks.named(`${pod}-${app}`).inputs;
            assert.ok(c.create.startsWith(`docker exec podnet-dev-node${node} sh -c 'docker rm -f k8s_${app}_${pod} >/dev/null 2>&1; ` +
                `docker run -d --name k8s_${app}_${pod} --network container:k8s_POD_${pod} `), c.create);
        }
        // Kubernetes' command ["/bin/sh", "-c", "..."] runs as --entrypoint /bin/sh IMAGE -c "..."
        const ubuntu = run.mocks.named("pod-net-test-ubuntu").inputs.create as string;
        assert.ok(ubuntu.includes(" --entrypoint /bin/sh ubuntu:24.04 -c ") && ubuntu.includes("while : ;do sleep 5; done"), ubuntu);
        assert.ok((run.mocks.named("web-1-nginx").inputs.create as string).endsWith(" nginx:1.27'"));
    });

    it("the CNI ADD wires the sandbox (by its id) through the node's CNI configuration; delete runs DEL with the same id", () => {
        const net = run.mocks.named("web-3-net").inputs;
        assert.equal(net.create, "docker exec podnet-dev-node3 podnet-cni ADD web-3 sandbox-id-of-web-3");
        assert.match(net.delete, /then docker exec podnet-dev-node3 podnet-cni DEL web-3 sandbox-id-of-web-3; fi$/);
        assert.deepEqual(net.triggers, [run.mocks.named("node3-cni").inputs.stdin], "a new network configuration wires the pod again");
    });

    it("each node's CNI configuration is a resource of its own: the conflist (its stdin) names podnet, the node's bridge, subnet and MTU, then portmap", () => {
        for (const i of [1, 2, 3]) {
            const c = run.mocks.named(`node${i}-cni`).inputs;
            assert.equal(c.create, `docker exec -i podnet-dev-node${i} podnet-cni CONFIG`);
            assert.match(c.delete, new RegExp(`then docker exec -i podnet-dev-node${i} podnet-cni UNCONFIG; fi$`));
            assert.deepEqual(JSON.parse(c.stdin), {
                cniVersion: "1.0.0", name: "podnet", plugins: [
                    { type: "podnet", bridge: "v-net-0", mtu: 1500, hairpinMode: true,
                        ipam: { type: "host-local", ranges: [[{ subnet: `10.244.${i}.0/24`, gateway: `10.244.${i}.1` }]], dataDir: "/var/lib/cni/networks" } },
                    { type: "portmap", capabilities: { portMappings: true } },
                ],
            });
            assert.deepEqual(run.ancestors(`node${i}-cni`).slice(0, 2), [`node${i}`, "lab"]);
        }
    });

    it("renders the pods as manifests through a render-only Kubernetes provider", () => {
        const p = run.mocks.ofType(T.k8sProvider)[0];
        assert.match(p.inputs.renderYamlToDirectory, /rendered\/dev$/);
        assert.equal(p.inputs.kubeconfig, "", "no cluster, whatever $KUBECONFIG the user exported (it would show as an update in every preview)");
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
            bridge: "v-net-0", bridgeIp: "10.244.1.1", bridgeMac: "0a:58:0a:f4:01:01",
            routes: [{ to: "10.244.2.0/24", via: "192.168.1.12" }, { to: "10.244.3.0/24", via: "192.168.1.13" }],
            podMtu: 1500,
        });
    });

    it("pods with node, IP, sandbox and containers", () => {
        const byName = Object.fromEntries(run.outputs.pods.map((p: { name: string }) => [p.name, p]));
        assert.deepEqual(byName["pod-net-test"], {
            name: "pod-net-test", node: "node1", ip: byName["pod-net-test"].ip, sandbox: "k8s_POD_pod-net-test", runtime: "docker",
            containers: [
                { name: "nginx", container: "k8s_nginx_pod-net-test", image: "nginx:1.27" },
                { name: "ubuntu", container: "k8s_ubuntu_pod-net-test", image: "ubuntu:24.04" },
            ],
        });
        // The IPs are what the (mocked) CNI ADDs printed, from each node's subnet.
        assert.deepEqual(run.outputs.pods.map((p: { name: string; node: string; ip: string }) => `${p.name}@${p.node}=${p.ip.replace(/\.\d+$/, ".x")}`).sort(),
            ["pod-net-test@node1=10.244.1.x", "web-1@node1=10.244.1.x", "web-2@node2=10.244.2.x", "web-3@node3=10.244.3.x"]);
        assert.deepEqual(run.outputs.pendingPods, []);
    });

    it("the diagram names the real nodes, addresses and subnets", () => {
        const d: string = run.outputs.diagram;
        for (const s of ["node1", "podnet-dev-node3", "192.168.1.12", "10.244.3.0/24", "bridge v-net-0", `pod web-2 ${run.outputs.pods.find((p: { name: string }) => p.name === "web-2").ip}`, "podnet-dev-lan 192.168.1.0/24"]) {
            assert.ok(d.includes(s), `diagram lacks ${s}:\n${d}`);
        }
    });
});
