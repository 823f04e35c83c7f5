// The program under mocks with other configs: node security modes, prebuilt node image, no preloading,
// one node, and bad input (refused before anything is declared). Plus Pulumi.yaml kept true to the code.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { CONFIG_KEYS } from "../plan/config";
import { projectRoot } from "../plan/load";
import { BAD_CONFIG } from "./bad-config";
import { DEV_CONFIG, runProgram } from "./harness";

describe("program variants", () => {
    it("capabilities mode: the explicit flag set instead of --privileged, with the cgroup mount", async () => {
        const run = await runProgram({ ...DEV_CONFIG, nodeSecurity: "capabilities" });
        const c = run.mocks.named("node2-container").inputs;
        assert.equal(c.privileged, undefined);
        assert.deepEqual(c.capabilities, { adds: ["ALL"], drops: ["CAP_SYS_RESOURCE"] }, "as Docker reports it back, so a refresh sees no drift");
        assert.deepEqual(c.securityOpts, ["apparmor=unconfined", "seccomp=unconfined"], "no CLI-only systempaths=unconfined");
        assert.deepEqual(c.sysctls, { "net.ipv4.ip_forward": "1" });
        assert.equal(c.cgroupnsMode, "host");
        assert.deepEqual(c.volumes[2], { hostPath: "/sys/fs/cgroup", containerPath: "/sys/fs/cgroup" });
    });

    it("the node image is built up to its runtime's stage of node/Dockerfile: docker mode's downloads no kubelet, kubelet mode's is named for its kubelet", async () => {
        const dockerfile = fs.readFileSync(path.join(projectRoot(), "node", "Dockerfile"), "utf8");
        const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
        assert.deepEqual(stages, ["docker-node", "kubelet-node", "cluster-node"]);
        const dockerStage = dockerfile.slice(0, dockerfile.indexOf("FROM docker-node AS kubelet-node"));
        assert.ok(!/wget|curl|dl\.k8s\.io/.test(dockerStage), "the docker-node stage downloads nothing but Alpine's packages");
        for (const [podRuntime, name, target] of [
            ["docker", "podnet-lab/node:27.5.1", "docker-node"],
            ["kubelet", "podnet-lab/node:27.5.1-kubelet-v1.34.0", "kubelet-node"],
        ]) {
            const run = await runProgram({ ...DEV_CONFIG, podRuntime });
            const image = run.mocks.named("node-image").inputs;
            assert.deepEqual({ name: image.imageName, target: image.build.target }, { name, target }, podRuntime);
            assert.ok(stages.includes(image.build.target));
            assert.equal(run.mocks.named("node1-container").inputs.image, name, `${podRuntime}: the nodes run that image`);
        }
    });

    it("a prebuilt node image is used as is (no build), substitutions rewrite pod images", async () => {
        const run = await runProgram({
            ...DEV_CONFIG, nodeImage: "podnet-e2e/node:test",
            imageSubstitutions: { "nginx:1.27": "podnet-e2e/web:test", "registry.k8s.io/pause:3.10": "podnet-e2e/pause:test" },
        }, "e2e");
        assert.equal(run.mocks.ofType("docker:index/image:Image").length, 0);
        assert.equal(run.mocks.named("node-image").inputs.name, "podnet-e2e/node:test");
        assert.equal(run.mocks.named("node1-container").inputs.image, "sha256:host-podnet-e2e/node:test");
        assert.match(run.mocks.named("web-1-nginx").inputs.create, / podnet-e2e\/web:test'$/, "pods run the substitute");
        assert.ok(run.mocks.named("node3-images").inputs.create.startsWith("docker save podnet-e2e/pause:test podnet-e2e/web:test "));
        const nginx = run.outputs.pods.find((p: { name: string }) => p.name === "web-1").containers[0];
        assert.equal(nginx.image, "nginx:1.27", "outputs show the image the manifest names");
        assert.equal(run.outputs.nodes[0].container, "podnet-e2e-node1", "names carry the stack");
    });

    it("preloading off: no host images, each node pulls each image itself", async () => {
        const run = await runProgram({ ...DEV_CONFIG, preloadImages: false });
        assert.deepEqual(run.mocks.ofType("docker:index/remoteImage:RemoteImage").map((r) => r.name), ["image-nginx-1-27"], "only the outside host's, on the host");
        const pulls = run.mocks.resources.filter((r) => r.name.includes("-pull-")).map((r) => r.name).sort();
        assert.equal(pulls.length, 9);
        assert.deepEqual(pulls.slice(0, 3), ["node1-pull-nginx-1-27", "node1-pull-registry-k8s-io-pause-3-10", "node1-pull-ubuntu-24-04"]);
        assert.equal(run.mocks.named("node2-pull-nginx-1-27").inputs.create,
            "docker exec podnet-dev-node2 sh -c 'docker pull -q nginx:1.27 >/dev/null && docker image inspect -f '\\''{{.Id}}'\\'' nginx:1.27'");
        assert.equal(run.mocks.resources.filter((r) => r.name.endsWith("-images")).length, 0);
        assert.deepEqual(run.mocks.named("web-3-pause").inputs.triggers, ["node3-container-id", "sha256:loaded-by-node3-pull-registry-k8s-io-pause-3-10"]);
    });

    it("fewer nodes than the pods name: those pods are Pending (warned, listed in the outputs), the rest run", async () => {
        const run = await runProgram({ ...DEV_CONFIG, nodeCount: 2 });
        assert.deepEqual(run.outputs.pods.map((p: { name: string }) => p.name).sort(), ["pod-net-test", "web-1", "web-2"]);
        assert.deepEqual(run.outputs.pendingPods.map((p: { name: string; nodeName: string }) => `${p.name}->${p.nodeName}`), ["web-3->node3"]);
        assert.match(run.outputs.pendingPods[0].reason, /is not a node of this lab; nodes: node1, node2/);
        assert.ok(run.mocks.resources.every((r) => !r.name.startsWith("web-3-") || r.name === "web-3-manifest"), "nothing of web-3 runs");
        assert.equal(run.mocks.named("web-3-manifest").inputs.spec.nodeName, "node3", "its manifest is still rendered, as written");
        assert.match(run.outputs.diagram, /pending \(not run\): web-3: spec\.nodeName 'node3'/);
    });

    it("cniPlugin bridge: every node's conflist names the reference plugin on the same bridge, subnet, gateway and MTU, without masquerade; the same pods and CNI calls", async () => {
        const run = await runProgram({ ...DEV_CONFIG, cniPlugin: "bridge" });
        for (const i of [1, 2, 3]) {
            const list = JSON.parse(run.mocks.named(`node${i}-cni`).inputs.stdin);
            assert.deepEqual(list.plugins.map((p: { type: string }) => p.type), ["bridge", "portmap"]);
            assert.deepEqual(list.plugins[0], {
                type: "bridge", bridge: "v-net-0", isDefaultGateway: true, ipMasq: false, hairpinMode: true, mtu: 1500,
                ipam: { type: "host-local", ranges: [[{ subnet: `10.244.${i}.0/24`, gateway: `10.244.${i}.1` }]], dataDir: "/var/lib/cni/networks" },
            });
        }
        assert.equal(run.mocks.named("web-2-net").inputs.create, "docker exec podnet-dev-node2 podnet-cni ADD web-2 sandbox-id-of-web-2");
        assert.deepEqual(run.mocks.named("web-2-net").inputs.triggers, [run.mocks.named("node2-cni").inputs.stdin]);
        assert.equal(run.outputs.cniPlugin, "bridge");
    });

    it("podNetwork docker0 (the 'before' state): no lab bridge, no routes, no CNI; sandboxes on each node's docker0", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podNetwork: "docker0" });
        assert.deepEqual(run.mocks.resources.filter((r) => /-(bridge|cni|routes)$/.test(r.name)), []);
        assert.equal(run.outputs.cniPlugin, undefined, "no CNI configuration, so no plugin");
        assert.match(run.mocks.named("web-2-pause").inputs.create, / --network bridge /);
        assert.equal(run.mocks.named("web-2-net").inputs.create, "docker exec podnet-dev-node2 podnet-cni DOCKER0 web-2 sandbox-id-of-web-2");
        assert.match(run.mocks.named("web-2-net").inputs.delete, /podnet-cni UNNAME web-2; fi$/);
        assert.equal(run.outputs.podNetwork, "docker0");
        assert.deepEqual(run.outputs.nodes.map((n: { bridge: string; podCidr: string; routes: unknown[] }) => `${n.bridge} ${n.podCidr} ${n.routes.length}`),
            ["docker0 172.17.0.0/16 0", "docker0 172.17.0.0/16 0", "docker0 172.17.0.0/16 0"]);
        assert.ok(run.outputs.pods.every((p: { ip: string }) => p.ip.startsWith("172.17.0.")));
        assert.match(run.outputs.diagram, /pod network: docker0, the "before" state/);
    });

    it("podNetwork vxlan (the overlay): per node a VXLAN device with one entry per peer under it, no routes; pods at MTU 1450", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podNetwork: "vxlan" });
        assert.deepEqual(run.mocks.resources.filter((r) => /-routes$/.test(r.name)), []);
        assert.ok(run.mocks.named("node2-bridge"), "the same bridge");
        assert.deepEqual(run.ancestors("node1-vxlan-peers").slice(0, 3), ["node1-vxlan", "node1", "lab"], "preview's tree: node -> vxlan device -> its peers");
        for (const name of ["node1-vxlan", "node1-vxlan-peers", "node3-vxlan-peers"]) {
            const o = run.options.get(name)!;
            const table = name.endsWith("-peers");
            assert.deepEqual({ dbr: o.deleteBeforeReplace, roc: o.replaceOnChanges.includes("*"), dw: o.deletedWith }, { dbr: true, roc: !table, dw: `${name.slice(0, 5)}-container` },
                `${name}: ${table ? "a new table is an update" : "replaced on any change"}`);
            assert.ok(run.mocks.named(name).inputs.delete, `${name} has a delete`);
            assert.equal(run.mocks.named(name).inputs.triggers[0], `${name.slice(0, 5)}-container-id`);
        }
        assert.equal(run.mocks.named("node3-vxlan-peers").inputs.stdin,
            "10.244.1.0/24 via 10.244.1.0 lladdr 0a:58:0a:f4:01:00 dst 192.168.1.11\n10.244.2.0/24 via 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dst 192.168.1.12\n");
        assert.equal(run.mocks.resources.filter((r) => /-vxlan(-peers)?$/.test(r.name)).length, 3 + 3, "a device and one table of peers per node");
        assert.equal(JSON.parse(run.mocks.named("node2-cni").inputs.stdin).plugins[0].mtu, 1450, "the pods' MTU is in the node's CNI configuration");
        assert.equal(run.outputs.podNetwork, "vxlan");
        assert.deepEqual(run.outputs.nodes[0].routes, [
            { to: "10.244.2.0/24", via: "10.244.2.0", dev: "vxlan.1", remote: "192.168.1.12" },
            { to: "10.244.3.0/24", via: "10.244.3.0", dev: "vxlan.1", remote: "192.168.1.13" },
        ]);
        assert.deepEqual(run.outputs.nodes[0].vxlan, { device: "vxlan.1", vni: 1, port: 4789, vtepIp: "10.244.1.0", mac: "0a:58:0a:f4:01:00", mtu: 1450 });
        assert.equal(run.outputs.nodes[0].podMtu, 1450);
        assert.match(run.outputs.diagram, /pod network: overlay \(seed 002\), VXLAN: each node's vxlan\.1 \(VNI 1, UDP 4789\)/);
        assert.match(run.outputs.diagram, /node1: 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev vxlan\.1 -> UDP to 192\.168\.1\.12/);
    });

    it("one node: an empty table of routes; the pods for node1 run, those pinned to node2 and node3 are Pending", async () => {
        const run = await runProgram({ ...DEV_CONFIG, nodeCount: 1 });
        assert.deepEqual(run.mocks.resources.filter((r) => r.name.endsWith("-routes")).map((r) => `${r.name} '${r.inputs.stdin}'`), ["node1-routes ''"]);
        assert.deepEqual(run.outputs.pods.map((p: { name: string; node: string }) => `${p.name}@${p.node}`), ["pod-net-test@node1", "web-1@node1"]);
        assert.deepEqual(run.outputs.pendingPods.map((p: { name: string }) => p.name), ["web-2", "web-3"]);
        assert.deepEqual(run.outputs.nodes[0].routes, []);
    });

    it("bad input: a RunError naming the field and value (no stack trace), and nothing declared", async () => {
        await assert.rejects(runProgram({ ...DEV_CONFIG, clusterCidr: "10.244.0.0/33", nodeCount: 3 }), (e: unknown) => {
            assert.ok(pulumi.RunError.isInstance(e), `not a RunError: ${e}`);
            assert.match((e as Error).message, /config podnet-lab:clusterCidr is '10\.244\.0\.0\/33', which is not an IPv4 CIDR/);
            assert.equal((e as { declared?: number }).declared, 0);
            return true;
        });
    });

    it("a bad pod manifest: refused naming file, field and value, and nothing declared", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-pods-"));
        fs.writeFileSync(path.join(dir, "bad.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: a, image: \"nginx:1.27\", ports: [{containerPort: 80}]}, {name: b, image: \"nginx:1.27\", ports: [{containerPort: 80}]}]\n");
        await assert.rejects(runProgram({ ...DEV_CONFIG, pods: [dir] }), (e: unknown) => {
            assert.match((e as Error).message, /bad\.yaml: containers 'a' and 'b' both declare port 80\/TCP/);
            assert.equal((e as { declared?: number }).declared, 0);
            return true;
        });
    });
});

describe("every bad config value, through the whole program: refused before anything is declared", () => {
    for (const [what, raw, words] of BAD_CONFIG) {
        it(what, async () => {
            await assert.rejects(runProgram({ ...DEV_CONFIG, ...raw }), (e: unknown) => {
                assert.ok(pulumi.RunError.isInstance(e), `not a RunError: ${e}`);
                for (const w of words) { assert.ok((e as Error).message.includes(w), `message lacks '${w}'`); }
                assert.equal((e as { declared?: number }).declared, 0, "resources were declared");
                return true;
            });
        });
    }
});

describe("Pulumi.yaml and Pulumi.dev.yaml", () => {
    const root = projectRoot();
    const project = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default: unknown; description: string; type?: string }> };
    const dev = yaml.load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };

    it("declares every key the code knows, with the code's default and description", () => {
        assert.deepEqual(Object.keys(project.config).sort(), Object.keys(CONFIG_KEYS).sort());
        for (const [k, v] of Object.entries(CONFIG_KEYS)) {
            assert.deepEqual(project.config[k].default, v.default, `default of ${k}`);
            assert.equal(project.config[k].description, v.description, `description of ${k}`);
        }
    });

    it("the dev stack holds the seeds' values", () => {
        assert.equal(dev.config["podnet-lab:lanCidr"], "192.168.1.0/24");
        assert.equal(dev.config["podnet-lab:firstNodeIp"], "192.168.1.11");
        assert.equal(dev.config["podnet-lab:nodeCount"], 3);
        assert.equal(dev.config["podnet-lab:clusterCidr"], "10.244.0.0/16");
        assert.equal(dev.config["podnet-lab:nodeSubnetPrefix"], 24);
        assert.equal(dev.config["podnet-lab:bridgeName"], "v-net-0");
    });
});
