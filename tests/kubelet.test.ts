// Kubelet mode: the static pod manifests (pure, plan/runtimes/kubelet.ts, plan/yaml.ts) and the resources the mode declares (under mocks).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { containerdImageName, KUBELET_VERSION, kubeletPodName, STATIC_POD_DIR, staticPodManifest } from "../plan/runtimes/kubelet";
import { toYaml } from "../plan/yaml";
import { projectRoot } from "../plan/load";
import { PodSpec } from "../plan/pods";
import { DEV_CONFIG, runProgram } from "./harness";

const WEB: PodSpec = {
    name: "web-1", labels: {}, source: "pods/web-1.yaml", nodeName: "node1",
    containers: [{ name: "nginx", image: "nginx:1.27", env: [{ name: "MODE", value: "on" }], ports: [{ containerPort: 80, protocol: "TCP" }] }],
} as unknown as PodSpec;

describe("static pod manifests (plan/runtimes/kubelet.ts)", () => {
    it("the rendered pod, on its node, running the image the node holds, without pulls, gone in 1 s", () => {
        assert.deepEqual(staticPodManifest(WEB, "node1", ["podnet-e2e/web:test"], true), {
            apiVersion: "v1", kind: "Pod",
            metadata: { name: "web-1", labels: { "podnet-lab/runtime": "kubelet" } },
            spec: {
                nodeName: "node1", terminationGracePeriodSeconds: 1,
                containers: [{
                    name: "nginx", image: "podnet-e2e/web:test", imagePullPolicy: "IfNotPresent",
                    env: [{ name: "MODE", value: "on" }], ports: [{ containerPort: 80, protocol: "TCP" }],
                }],
            },
        });
        assert.equal((staticPodManifest(WEB, "node1", ["nginx:1.27"], false).spec as { containers: { imagePullPolicy?: string }[] }).containers[0].imagePullPolicy,
            undefined, "without preloading kubelet pulls, by its default policy");
    });

    const cases: [string, unknown][] = [
        ["a manifest", staticPodManifest(WEB, "node1", ["nginx:1.27"], true)],
        ["words YAML would read as something else", { a: "true", b: "no", c: "1.5", d: "-c", e: "x: y", f: "", g: "null", h: "a:", i: "#x", j: "~" }],
        ["numbers, booleans, empty lists and maps, nested lists", { n: 80, t: true, l: [], m: {}, nested: [[1, "2"], ["a"]], deep: { a: [{ b: [{ c: 1 }] }] } }],
    ];
    for (const [what, value] of cases) {
        it(`toYaml reads back as the same data (js-yaml): ${what}`, () => {
            assert.deepEqual(yaml.load(toYaml(value)), value);
        });
    }

    it("toYaml is block style, lists at their key's indentation, as kubectl prints them", () => {
        assert.equal(toYaml({ spec: { containers: [{ name: "web", args: ["-p", "80"] }] } }),
            "spec:\n  containers:\n  - name: web\n    args:\n    - \"-p\"\n    - \"80\"\n");
    });

    const names: [string, string][] = [
        ["nginx:1.27", "docker.io/library/nginx:1.27"],
        ["nginx", "docker.io/library/nginx:latest"],
        ["podnet-e2e/web:test", "docker.io/podnet-e2e/web:test"],
        ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"],
        ["localhost:5000/web", "localhost:5000/web:latest"],
        ["ghcr.io/org/app@sha256:" + "a".repeat(64), "ghcr.io/org/app@sha256:" + "a".repeat(64)],
    ];
    for (const [ref, name] of names) {
        it(`containerd keeps ${ref} as ${name}`, () => assert.equal(containerdImageName(ref), name));
    }

    it("kubelet names a static pod after the manifest and the node", () => assert.equal(kubeletPodName("web-1", "node3"), "web-1-node3"));

    it("one kubelet version and one manifest folder: the users' node image, the e2e image and the node scripts (podnet-lib) agree with plan/runtimes/kubelet.ts", () => {
        const read = (f: string) => fs.readFileSync(path.join(projectRoot(), f), "utf8");
        assert.equal(/^ARG KUBELET_VERSION=(\S+)$/m.exec(read("node/Dockerfile"))?.[1], KUBELET_VERSION);
        assert.equal(/^KUBE_VERSION=(\S+)$/m.exec(read("tests/e2e/images/build.sh"))?.[1], KUBELET_VERSION);
        assert.equal(/^MANIFESTS=\$PODNET_ROOT(\S+)$/m.exec(read("node/bin/podnet-lib"))?.[1], STATIC_POD_DIR);
    });
});

describe("podRuntime kubelet (the program under mocks)", () => {
    it("each node runs containerd and kubelet: an init, /dev/kmsg, /run on tmpfs, state volumes, the mode in its environment", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podRuntime: "kubelet" });
        const c = run.mocks.named("node2-container").inputs;
        assert.equal(c.init, true);
        assert.deepEqual(c.devices, [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "rwm" }]);
        assert.deepEqual(c.tmpfs, { "/run": "rw,exec,mode=755" });
        for (const v of ["/var/lib/containerd", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/cni"]) {
            assert.ok(c.volumes.some((x: { containerPath: string }) => x.containerPath === v), `no volume at ${v}`);
        }
        assert.deepEqual(c.envs, ["PODNET_POD_RUNTIME=kubelet", "PODNET_SANDBOX_IMAGE=registry.k8s.io/pause:3.10"]);
        assert.equal(run.mocks.named("node2-kubelet").inputs.create, "docker exec podnet-dev-node2 podnet-kubelet ready 120");
        assert.deepEqual(run.ancestors("node2-kubelet").slice(0, 2), ["node2", "lab"]);
        const o = run.options.get("node2-kubelet")!;
        assert.deepEqual({ roc: o.replaceOnChanges.includes("*"), dw: o.deletedWith }, { roc: true, dw: "node2-container" });
    });

    it("images go into containerd's k8s.io namespace, after kubelet is up", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podRuntime: "kubelet" });
        const images = run.mocks.named("node1-images").inputs.create as string;
        assert.match(images, /^docker save registry\.k8s\.io\/pause:3\.10 nginx:1\.27 ubuntu:24\.04 \| docker exec -i podnet-dev-node1 podnet-kubelet images registry\.k8s\.io\/pause:3\.10 docker\.io\/library\/nginx:1\.27 docker\.io\/library\/ubuntu:24\.04$/);
    });

    it("each pod is one static pod manifest under its pod (no pause, CNI or container steps of the lab's own), written and removed by podnet-kubelet", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podRuntime: "kubelet" });
        assert.deepEqual(run.mocks.resources.filter((r) => /-(pause|net|nginx|ubuntu)$/.test(r.name)).map((r) => r.name), []);
        const s = run.mocks.named("web-2-static").inputs;
        assert.equal(s.create, "docker exec -i podnet-dev-node2 podnet-kubelet pod add web-2 node2");
        assert.match(s.delete, /podnet-dev-node2 podnet-kubelet pod del web-2 node2; fi$/);
        const manifest = yaml.load(s.stdin) as { metadata: { name: string }; spec: { nodeName: string; containers: { image: string }[] } };
        assert.equal(manifest.metadata.name, "web-2");
        assert.equal(manifest.spec.nodeName, "node2");
        assert.equal(manifest.spec.containers[0].image, "nginx:1.27");
        assert.deepEqual(run.ancestors("web-2-static").slice(0, 3), ["web-2", "node2", "lab"]);
        const o = run.options.get("web-2-static")!;
        assert.deepEqual({ dbr: o.deleteBeforeReplace, roc: o.replaceOnChanges.includes("*"), dw: o.deletedWith }, { dbr: true, roc: true, dw: "node2-container" });
        assert.equal(s.triggers[0], "node2-container-id", "a re-created node gets its pods written again");
    });

    it("outputs: the runtime, each pod's kubelet name and manifest, and the IP containerd's CNI ADD gave it", async () => {
        const run = await runProgram({ ...DEV_CONFIG, podRuntime: "kubelet" });
        assert.equal(run.outputs.podRuntime, "kubelet");
        const web3 = run.outputs.pods.find((p: { name: string }) => p.name === "web-3");
        assert.deepEqual({ ...web3, ip: web3.ip.replace(/\.\d+$/, ".x") }, {
            name: "web-3", node: "node3", ip: "10.244.3.x", sandbox: "web-3-node3", runtime: "kubelet",
            manifest: "/etc/kubernetes/manifests/web-3.yaml",
            containers: [{ name: "nginx", container: "nginx", image: "nginx:1.27" }],
        });
    });

    it("docker mode declares nothing of kubelet's", async () => {
        const run = await runProgram(DEV_CONFIG);
        assert.equal(run.outputs.podRuntime, "docker");
        assert.deepEqual(run.mocks.resources.filter((r) => /-(kubelet|static)$/.test(r.name)), []);
        const c = run.mocks.named("node1-container").inputs;
        assert.deepEqual([c.init, c.devices, c.tmpfs, c.envs], [undefined, undefined, undefined, undefined]);
    });
});
