// Cluster mode (podRuntime: cluster) under recording mocks: the control plane's resources, the secrets, the provider's
// explicit kubeconfig, each node's join, the pods as Pod objects, and what each does on update, replace and destroy.
import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { planLab } from "../plan/plan";
import { parseLabConfig } from "../plan/config";
import { parsePodManifests } from "../plan/pods";
import { API_PORT, clusterPodObject, joinCommand, kubeconfigCommand } from "../plan/runtimes/cluster";
import { DEV_CONFIG, Run, runProgram } from "./harness";

const T = {
    container: "docker:index/container:Container",
    command: "command:local:Command",
    k8sProvider: "pulumi:providers:kubernetes",
    pod: "kubernetes:core/v1:Pod",
};
let run: Run;
before(async () => { run = await runProgram({ ...DEV_CONFIG, podRuntime: "cluster" }); });
const opts = (name: string) => {
    const o = run.options.get(name);
    assert.ok(o, `no options recorded for ${name}`);
    return { ...o, replaceOnChanges: o.replaceOnChanges.filter((k) => k !== "triggers[*]") };
};
const NONE = { retainOnDelete: false, protect: false, ignoreChanges: [], beforeCreate: [] };

describe("cluster mode: the control plane", () => {
    it("one container on the LAN, before node1's address: the node image, no powers, the API server on 127.0.0.1 only, etcd and the PKI in volumes", () => {
        const c = run.mocks.named("control-plane-container").inputs;
        assert.equal(c.name, "podnet-dev-control-plane");
        assert.equal(c.hostname, "control-plane");
        assert.deepEqual(c.networksAdvanced, [{ name: "podnet-dev-lan", ipv4Address: "192.168.1.10" }]);
        assert.deepEqual(c.ports, [{ internal: API_PORT, external: 6443, ip: "127.0.0.1" }]);
        assert.deepEqual(c.volumes, [{ containerPath: "/var/lib/etcd" }, { containerPath: "/etc/kubernetes" }]);
        assert.deepEqual(c.envs, ["PODNET_ROLE=control-plane", "PODNET_ADVERTISE_IP=192.168.1.10", "PODNET_SERVICE_CIDR=10.96.0.0/12"]);
        assert.equal(c.privileged, undefined);
        assert.equal(c.capabilities, undefined);
        assert.equal(c.init, true, "an init reaps what the components leave");
        assert.equal(c.image, run.mocks.named("node-image").inputs.imageName, "the node image (cluster-node stage)");
        assert.equal(run.mocks.named("node-image").inputs.build.target, "cluster-node");
        assert.deepEqual(opts("control-plane-container").beforeCreate, ["podnet-lab-leftover-container"]);
        assert.equal(opts("control-plane-container").deleteBeforeReplace, true, "fixed name and LAN address");
    });

    it("the admin kubeconfig is a secret: the Command's stdout is stored encrypted, and the stack output is secret", () => {
        assert.deepEqual(run.secretOutputs.get("control-plane-kubeconfig"), ["stdout"]);
        assert.ok(run.secretExports.has("kubeconfig"), "the kubeconfig output is a secret");
        assert.deepEqual([...run.secretExports], ["kubeconfig"], "nothing else is");
        const k = run.mocks.named("control-plane-kubeconfig").inputs;
        assert.deepEqual({ create: k.create, delete: k.delete }, kubeconfigCommand(planOf().controlPlane!));
        assert.match(k.create, /> \.lab\/dev\/kubeconfig\.new\) && mv -f \.lab\/dev\/kubeconfig\.new \.lab\/dev\/kubeconfig/);
        assert.match(k.create, /umask 077/, "the file is the user's alone (0600)");
        assert.deepEqual(opts("control-plane-kubeconfig"), { deleteBeforeReplace: true, replaceOnChanges: ["*"], deletedWith: "", ...NONE },
            "a host file: delete first (the same path), and always deleted itself");
    });

    it("the Kubernetes provider is the control plane's own: configured with its kubeconfig, never the user's ~/.kube/config or context", () => {
        const providers = run.mocks.ofType(T.k8sProvider);
        const cluster = providers.filter((p) => p.inputs.renderYamlToDirectory === undefined);
        assert.equal(cluster.length, 1);
        assert.equal(cluster[0].name, "control-plane-provider");
        // A secret input (the SDK wraps it), holding the kubeconfig the control plane made.
        assert.deepEqual(cluster[0].inputs.kubeconfig, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: run.outputs.kubeconfig });
        assert.equal(cluster[0].inputs.context, undefined);
        assert.equal(cluster[0].inputs.deleteUnreachable, "true", "(providers get their config as strings) a refresh with the control plane gone drops its objects instead of failing");
        assert.equal(cluster[0].inputs.cluster, undefined);
        for (const p of run.mocks.ofType(T.pod).filter((x) => /-pod$/.test(x.name))) {
            assert.match(p.provider ?? "", /control-plane-provider/, `${p.name} is applied through the control plane's provider`);
        }
    });

    it("the tree: lab -> control-plane -> its container, readiness, kubeconfig and provider; node -> join; node -> pod -> its Pod object", () => {
        for (const n of ["control-plane-container", "control-plane-ready", "control-plane-kubeconfig", "control-plane-provider"]) {
            assert.deepEqual(run.ancestors(n), ["control-plane", "lab"], n);
        }
        assert.deepEqual(run.ancestors("node2-join"), ["node2", "lab"]);
        assert.deepEqual(run.ancestors("web-2-pod"), ["web-2", "node2", "lab"]);
    });
});

describe("cluster mode: the nodes join", () => {
    it("each node joins (its kubelet's certificate, its Node with the lab subnet) once its bridge and CNI configuration are there; no standalone kubelet step", () => {
        const plan = planOf();
        for (const n of plan.nodes) {
            const j = run.mocks.named(`${n.name}-join`).inputs;
            assert.deepEqual({ create: j.create }, joinCommand(n, plan.controlPlane!));
            assert.equal(j.create, `docker exec podnet-dev-${n.name} podnet-kubelet csr ${n.name} | docker exec -i podnet-dev-control-plane podnet-control-plane sign ${n.name} ${n.podCidr} | `
                + `docker exec -i podnet-dev-${n.name} podnet-kubelet join ${n.name} ${n.lanIp} https://192.168.1.10:6443 10.244.0.0/16 192.168.1.0/24 10.96.0.10 cluster.local && docker exec podnet-dev-control-plane podnet-control-plane wait-node ${n.name} 120`);
            assert.equal(j.delete, undefined, "a node re-created joins again under the same Node: its pods are never left to garbage collection");
            assert.deepEqual(j.triggers, [`${n.name}-container-id`, "control-plane-container-id"], "a new node or a new control plane joins again");
            assert.deepEqual(opts(`${n.name}-join`), { deleteBeforeReplace: false, replaceOnChanges: ["*"], deletedWith: "control-plane-container", ...NONE },
                "a fresh run on any change; destroying the control plane takes all");
            assert.throws(() => run.mocks.named(`${n.name}-kubelet`), /0 resources named/);
        }
    });

    it("the API server's Nodes are the lab's: one step lists them, runs again when the list changes, and deletes any other Node", () => {
        const c = run.mocks.named("control-plane-nodes").inputs;
        assert.equal(c.create, "docker exec podnet-dev-control-plane podnet-control-plane nodes node1 node2 node3");
        assert.deepEqual(c.triggers, ["control-plane-container-id"]);
        assert.deepEqual(run.ancestors("control-plane-nodes"), ["control-plane", "lab"]);
        assert.deepEqual(opts("control-plane-nodes"), { deleteBeforeReplace: false, replaceOnChanges: ["*"], deletedWith: "control-plane-container", ...NONE });
    });

    it("the node containers run containerd and a kubelet in cluster mode, like kubelet mode's", () => {
        const c = run.mocks.named("node1-container").inputs;
        assert.ok(c.envs.includes("PODNET_POD_RUNTIME=cluster"));
        assert.equal(c.init, true);
        // Preloaded images go into containerd, where the CRI looks, once the node has joined.
        assert.match(run.mocks.named("node1-images").inputs.create, /podnet-kubelet images /);
    });
});

describe("cluster mode: the pods are Pod objects", () => {
    it("each pod is a Pod object on the node the lab placed it (spec.nodeName), with the images the nodes hold, after its node joined", () => {
        const plan = planOf();
        for (const p of plan.pods) {
            const r = run.mocks.named(`${p.name}-pod`);
            assert.equal(r.type, T.pod);
            assert.equal(r.inputs.spec.nodeName, p.node);
            assert.deepEqual(r.inputs.metadata, { name: p.name, namespace: "default", labels: { ...p.source.labels, "podnet-lab/runtime": "cluster" } },
                "the manifest's labels (what a Service picks it by), and the lab's");
            assert.deepEqual(r.inputs.spec.containers.map((c: { imagePullPolicy: string }) => c.imagePullPolicy), p.containers.map(() => "IfNotPresent"));
            assert.equal(r.inputs.spec.terminationGracePeriodSeconds, 1);
            assert.deepEqual(opts(`${p.name}-pod`), { deleteBeforeReplace: true, replaceOnChanges: [], deletedWith: "control-plane-container", ...NONE },
                "a fixed name: the old pod goes (its CNI DEL) before the new one; destroying the lab does not delete pods one by one");
            assert.deepEqual(run.ancestors(`${p.name}-pod`), [p.name, p.node, "lab"]);
        }
        assert.equal(run.mocks.ofType(T.command).filter((c) => /-(pause|net|static)$/.test(c.name)).length, 0, "no pod step of the other runtimes");
    });

    it("the stack outputs: each pod's IP is the one the API server reports; the control plane's address, server and kubeconfig file", () => {
        for (const p of run.outputs.pods) {
            assert.equal(p.runtime, "cluster");
            assert.equal(p.sandbox, p.name, "the Pod object's name, kubelet's name for it too");
            assert.match(p.ip, /^10\.244\.\d+\.\d+$/);
        }
        assert.deepEqual(run.outputs.controlPlane, {
            name: "control-plane", container: "podnet-dev-control-plane", lanIp: "192.168.1.10", server: "https://127.0.0.1:6443",
            lanServer: "https://192.168.1.10:6443", serviceCidr: "10.96.0.0/12", kubeconfigFile: ".lab/dev/kubeconfig", version: "v1.34.0",
        });
        assert.equal(run.outputs.podRuntime, "cluster");
    });

    it("the Pod object: the manifest's spec, placed, with the images run and a 1 s grace period", () => {
        const [spec] = parsePodManifests([{ path: "pods/x.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n" }]).pods;
        assert.deepEqual(clusterPodObject(spec, "node2", ["my/web:1"], false), {
            apiVersion: "v1", kind: "Pod",
            metadata: { name: "x", namespace: "default", labels: { "podnet-lab/runtime": "cluster" } },
            spec: {
                nodeName: "node2", terminationGracePeriodSeconds: 1, containers: [{ name: "web", image: "my/web:1" }],
                tolerations: [
                    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
                    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
                ],
            },
        });
    });
});

describe("cluster mode: refused at preview, nothing created", () => {
    it("a pod whose spec.nodeName is not a node of the lab (a Pod object would wait for it forever)", async () => {
        const [spec] = parsePodManifests([{ path: "pods/far.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: far\nspec:\n  nodeName: node9\n  containers:\n    - name: web\n      image: nginx:1.27\n" }]).pods;
        const { config } = parseLabConfig({ podRuntime: "cluster" });
        const { problems } = planLab(config, [spec], "dev");
        assert.equal(problems.count, 1);
        assert.match(problems.all[0], /spec\.nodeName 'node9' \(pods\/far\.yaml\) is not a node of this lab; nodes: node1, node2, node3 .*; in cluster mode every pod runs on a node of the lab/);
        // The other runtimes keep it Pending, as before.
        assert.deepEqual(planLab(parseLabConfig({}).config, [spec], "dev").problems.all, []);
    });
});

function planOf() {
    const { config } = parseLabConfig({ podRuntime: "cluster" });
    const specs = parsePodManifests(["pod-net-test", "web-1", "web-2", "web-3"].map((n) => ({ path: `pods/${n}.yaml`, text: require("node:fs").readFileSync(`${__dirname}/../../pods/${n}.yaml`, "utf8") }))).pods;
    return planLab(config, specs, "dev").plan;
}
