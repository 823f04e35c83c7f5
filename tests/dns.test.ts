// The cluster DNS (cluster mode): the tenth address of the Service range, the Corefile, the objects as kubeadm's
// addon has them; under recording mocks, the objects the cluster's provider applies and each kubelet's flags; the
// other modes have none.
import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { clusterDnsIp, COREDNS_IMAGE, corefile, dnsPlan } from "../plan/dns";
import { DEV_CONFIG, Run, runProgram } from "./harness";

describe("the cluster DNS's plan (plan/dns.ts)", () => {
    it("kube-dns is the tenth address of the Service range", () => {
        const table: [string, string][] = [["10.96.0.0/12", "10.96.0.10"], ["10.100.0.0/16", "10.100.0.10"], ["172.20.5.0/28", "172.20.5.10"]];
        for (const [range, ip] of table) { assert.equal(clusterDnsIp(range), ip, range); }
    });

    it("the Corefile answers for cluster.local from the API, with health and readiness, and forwards nothing upstream", () => {
        const c = corefile();
        assert.match(c, /kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{/);
        assert.match(c, /ready :8181/);
        assert.doesNotMatch(c, /forward/, "the lab reaches no outside resolver");
    });

    it("the objects: a ServiceAccount allowed to list and watch Services and EndpointSlices, one CoreDNS replica, kube-dns at the tenth address", () => {
        const p = dnsPlan("10.96.0.0/12", "my/coredns:1");
        const dep = p.deployment as { spec: { replicas: number; template: { spec: { serviceAccountName: string; dnsPolicy: string; containers: { image: string; ports: { containerPort: number; protocol: string }[] }[] } } } };
        assert.equal(dep.spec.replicas, 1);
        assert.equal(dep.spec.template.spec.serviceAccountName, "coredns");
        assert.equal(dep.spec.template.spec.dnsPolicy, "Default", "CoreDNS does not ask itself");
        assert.equal(dep.spec.template.spec.containers[0].image, "my/coredns:1");
        assert.deepEqual(dep.spec.template.spec.containers[0].ports.map((x) => `${x.containerPort}/${x.protocol}`), ["53/UDP", "53/TCP"]);
        const svc = p.service as { metadata: { name: string; namespace: string }; spec: { clusterIP: string; ports: { port: number; protocol: string }[] } };
        assert.deepEqual([svc.metadata.namespace, svc.metadata.name, svc.spec.clusterIP], ["kube-system", "kube-dns", "10.96.0.10"]);
        const rules = (p.clusterRole as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules;
        assert.ok(rules.some((r) => r.apiGroups.includes("discovery.k8s.io") && r.resources.includes("endpointslices") && r.verbs.join() === "list,watch"));
        assert.ok(rules.some((r) => r.resources.includes("services")));
        assert.ok(rules.every((r) => r.verbs.every((v) => v === "list" || v === "watch")), "read-only");
        assert.equal(COREDNS_IMAGE, "registry.k8s.io/coredns/coredns:v1.12.1");
    });
});

describe("the cluster DNS under mocks", () => {
    let cluster: Run;
    let docker: Run;
    before(async () => {
        cluster = await runProgram({ ...DEV_CONFIG, podRuntime: "cluster" });
        docker = await runProgram({ ...DEV_CONFIG });
    });

    it("cluster mode: CoreDNS's objects, applied by the control plane's provider, in one component under the lab; the image is loaded into every node", () => {
        for (const [name, type] of [["cluster-dns-service-account", "kubernetes:core/v1:ServiceAccount"], ["cluster-dns-cluster-role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"],
            ["cluster-dns-cluster-role-binding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"], ["cluster-dns-config", "kubernetes:core/v1:ConfigMap"],
            ["cluster-dns-deployment", "kubernetes:apps/v1:Deployment"], ["cluster-dns-service", "kubernetes:core/v1:Service"]]) {
            const r = cluster.mocks.named(name);
            assert.equal(r.type, type);
            assert.match(String(r.provider), /control-plane-provider/);
            assert.deepEqual(cluster.ancestors(name), ["cluster-dns", "lab"]);
            assert.equal(cluster.options.get(name)?.deletedWith, "control-plane-container");
        }
        assert.equal(cluster.mocks.named("cluster-dns-service").inputs.spec.clusterIP, "10.96.0.10");
        const images = cluster.mocks.named("node1-images").inputs.create as string;
        assert.match(images, /registry\.k8s\.io\/coredns\/coredns:v1\.12\.1/, "every node holds CoreDNS's image");
    });

    it("cluster mode: every kubelet is told the cluster DNS and domain (its join's arguments); the outputs name them", () => {
        for (const n of ["node1", "node2", "node3"]) {
            assert.match(cluster.mocks.named(`${n}-join`).inputs.create, / 10\.96\.0\.10 cluster\.local && /);
        }
        assert.deepEqual(cluster.outputs.clusterDns, { ip: "10.96.0.10", domain: "cluster.local", service: "kube-system/kube-dns" });
    });

    it("docker mode: no DNS object, no clusterDns output", () => {
        assert.equal(docker.mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Pod").length, 0);
        assert.equal(docker.outputs.clusterDns, undefined);
    });
});
