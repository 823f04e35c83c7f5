// The pod runtime registry (plan/runtimes): one entry per runtime, what each one decides, as a table.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIG_KEYS } from "../plan/config";
import { assertNever } from "../plan/errors";
import { PodSpec } from "../plan/pods";
import { POD_RUNTIME_CHOICES, POD_RUNTIMES, PodRuntime, RUNTIMES } from "../plan/runtimes";

const WEB = {
    name: "web-1", labels: {}, source: "pods/web-1.yaml", nodeName: "node3",
    containers: [{ name: "nginx", image: "nginx:1.27", env: [], ports: [] }],
} as unknown as PodSpec;

/** What each runtime decides, one row each: a runtime added to PodRuntime must get a row (the type says so). */
const TABLE: { readonly [K in PodRuntime]: {
    nodeImage: { name: string; target: string }; kubeletOnNode: boolean; newSandboxNewIp: boolean; podName: string; builtBy: string;
    refusesDocker0: boolean; envs: string[] | undefined;
} } = {
    docker: {
        nodeImage: { name: "podnet-lab/node:27.5.1", target: "docker-node" }, kubeletOnNode: false, newSandboxNewIp: false,
        podName: "web-1", builtBy: "built by the lab's steps (docker)", refusesDocker0: false, envs: undefined,
    },
    kubelet: {
        nodeImage: { name: "podnet-lab/node:27.5.1-kubelet-v1.34.0", target: "kubelet-node" }, kubeletOnNode: true, newSandboxNewIp: true,
        podName: "web-1-node3", builtBy: "built by kubelet (static pod /etc/kubernetes/manifests/web-1.yaml, kubelet name web-1-node3)",
        refusesDocker0: true, envs: ["PODNET_POD_RUNTIME=kubelet", "PODNET_SANDBOX_IMAGE=registry.k8s.io/pause:3.10"],
    },
    cluster: {
        nodeImage: { name: "podnet-lab/node:27.5.1-cluster-v1.34.0", target: "cluster-node" }, kubeletOnNode: true, newSandboxNewIp: true,
        podName: "web-1", builtBy: "built by kubelet on node3, from the lab's API server (Pod default/web-1)",
        refusesDocker0: true, envs: ["PODNET_POD_RUNTIME=cluster", "PODNET_SANDBOX_IMAGE=registry.k8s.io/pause:3.10"],
    },
};

describe("the pod runtime registry (plan/runtimes)", () => {
    it("every runtime in POD_RUNTIMES has an entry, and there is none other", () => {
        assert.deepEqual(Object.keys(RUNTIMES).sort(), [...POD_RUNTIMES].sort());
        assert.deepEqual(Object.keys(TABLE).sort(), [...POD_RUNTIMES].sort());
    });

    for (const kind of POD_RUNTIMES) {
        it(`${kind}: its node image, node settings, pod plan, pod name, built-by line and pod networks`, () => {
            const r = RUNTIMES[kind], want = TABLE[kind];
            assert.deepEqual(r.nodeImage, want.nodeImage);
            assert.equal(r.kubeletOnNode, want.kubeletOnNode);
            assert.equal(r.newSandboxNewIp, want.newSandboxNewIp);
            assert.deepEqual(r.nodeSettings("registry.k8s.io/pause:3.10")?.envs, want.envs);
            assert.equal(r.podPlan({ spec: WEB, node: "node3", runImages: ["nginx:1.27"], preloaded: true }).kind, kind);
            assert.equal(r.podName("web-1", "node3"), want.podName);
            assert.equal(r.builtBy({ name: "web-1", node: "node3" }), want.builtBy);
            const field = (k: string) => `config podnet-lab:${k}`;
            assert.equal(r.refuses("docker0", field) !== undefined, want.refusesDocker0);
            assert.equal(r.refuses("lab", field), undefined);
            assert.equal(r.refuses("vxlan", field), undefined);
        });
    }

    it("the config key's description and the valid values name every runtime, in words", () => {
        assert.equal(CONFIG_KEYS.podRuntime.description,
            "Who builds the pods on each node: 'docker', the lab's explicit steps through the node's Docker (a pause container, the CNI ADD, app containers joined to its namespace), 'kubelet', a real kubelet (standalone, static pods from /etc/kubernetes/manifests) and containerd's CRI, which calls the same CNI configuration, or 'cluster', a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler in a container on the LAN), every node's kubelet registered with it, and the pods as Pod objects the Kubernetes provider applies (kubectl works on the lab); pulumi up switches between them (the nodes are re-created).");
        assert.equal(POD_RUNTIME_CHOICES, "'docker' (the lab's explicit steps through each node's Docker), 'kubelet' (a real kubelet and containerd) or 'cluster' (a real control plane, registered kubelets, Pod objects)");
    });

    it("assertNever, the default of every switch on a runtime, throws if it is ever reached", () => {
        assert.throws(() => assertNever("cluster" as never), /unhandled case: "cluster"/);
    });
});
