// Services (cluster mode): the Service documents of the pod folder, parsed and refused field by field; the plan
// (endpoints from the selector, node ports picked when not named); under recording mocks, the Service objects the
// cluster's provider applies, their options and the stack outputs; and the other modes leaving them out.
import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { PodOutput, ServiceOutput } from "../plan/outputs";
import { parsePodManifests } from "../plan/pods";
import { planServices, selects } from "../plan/services";
import { DEV_CONFIG, Run, runProgram } from "./harness";

const svc = (spec: string, name = "web") => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const parse = (...texts: string[]) => parsePodManifests(texts.map((text, i) => ({ path: `pods/s${i}.yaml`, text })));
const pod = (name: string, labels: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels: ${labels}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n`;

describe("Service documents beside the pods", () => {
    it("a NodePort Service: its type, selector and ports; the target port is the port when not given; the pods' labels are read", () => {
        const r = parse(svc("  type: NodePort\n  selector: {app: web}\n  ports:\n    - {port: 80, nodePort: 30080}\n"), pod("web-1", "{app: web, tier: front}"));
        assert.deepEqual(r.problems.all, []);
        assert.deepEqual(r.services, [{ name: "web", type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 80, nodePort: 30080, protocol: "TCP" }], source: "pods/s0.yaml" }]);
        assert.deepEqual(r.pods[0].labels, { app: "web", tier: "front" });
        assert.deepEqual(parse(svc("  selector: {app: web}\n  ports: [{port: 8080, targetPort: 80}]\n")).services[0].type, "ClusterIP", "ClusterIP when spec.type is left out");
    });

    const refused: [string, string, RegExp][] = [
        ["a type the lab does not serve", svc("  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80}]\n"), /spec\.type is "LoadBalancer"; this lab serves ClusterIP and NodePort Services/],
        ["no selector", svc("  ports: [{port: 80}]\n"), /spec\.selector is undefined; a Service here picks its pods by their labels, like \{app: web\}/],
        ["no ports", svc("  selector: {app: web}\n"), /spec\.ports is undefined; a Service needs a list of at least one port/],
        ["a port out of range", svc("  selector: {app: web}\n  ports: [{port: 70000}]\n"), /spec\.ports\[0\]\.port is 70000; it must be a whole number from 1 to 65535/],
        ["a named target port", svc("  selector: {app: web}\n  ports: [{port: 80, targetPort: http}]\n"), /spec\.ports\[0\]\.targetPort is "http"; it must be the pods' port, a whole number from 1 to 65535 \(named ports are not resolved here\)/],
        ["a node port out of the range", svc("  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80, nodePort: 8080}]\n"), /spec\.ports\[0\]\.nodePort is 8080; it must be a whole number from 30000 to 32767/],
        ["a node port on a ClusterIP Service", svc("  selector: {app: web}\n  ports: [{port: 80, nodePort: 30080}]\n"), /nodePort is 30080, but spec\.type is "ClusterIP"; only a NodePort Service has node ports/],
        ["two ports without names", svc("  selector: {app: web}\n  ports: [{port: 80}, {port: 443}]\n"), /spec\.ports has 2 ports; each needs a name when a Service has more than one/],
        ["a name that starts with a digit", svc("  selector: {app: web}\n  ports: [{port: 80}]\n", "1web"), /metadata\.name is "1web"; a Service's name must be a DNS-1035 label/],
        ["an unknown field", svc("  selector: {app: web}\n  clusterIP: 10.96.0.50\n  ports: [{port: 80}]\n"), /spec\.clusterIP is not supported by this lab; supported here: spec\.type, spec\.selector, spec\.ports/],
        ["a bad label value in the selector", svc("  selector: {app: -web}\n  ports: [{port: 80}]\n"), /spec\.selector\.app is "-web"; a label value is a string of at most 63/],
    ];
    for (const [what, text, message] of refused) {
        it(`refuses ${what}, naming the file, the field and the value, and what would be valid`, () => {
            const r = parse(text);
            assert.match(r.problems.all.join("\n"), message);
            assert.match(r.problems.all[0], /^pods\/s0\.yaml: /);
            assert.deepEqual(r.services, []);
        });
    }

    it("refuses two Services of one name, and one node port for two Services", () => {
        const r = parse(svc("  type: NodePort\n  selector: {app: a}\n  ports: [{port: 80, nodePort: 30080}]\n", "a"),
            svc("  type: NodePort\n  selector: {app: b}\n  ports: [{port: 80, nodePort: 30080}]\n", "b"), svc("  selector: {app: a}\n  ports: [{port: 80}]\n", "a"));
        assert.match(r.problems.all.join("\n"), /pods\/s2\.yaml: metadata\.name 'a' is already the name of a Service in pods\/s0\.yaml/);
        assert.match(r.problems.all.join("\n"), /pods\/s1\.yaml: nodePort 30080 of Service 'b' is already Service 'a''s/);
    });

    it("refuses a pod label that is not a label", () => {
        assert.match(parse(pod("web-1", "{app: 'a b'}")).problems.all.join("\n"), /pods\/s0\.yaml: metadata\.labels\.app is "a b"; a label value is/);
    });
});

describe("the Services' plan (plan/services.ts)", () => {
    const specs = parse(
        svc("  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80}]\n", "web"),
        svc("  type: NodePort\n  selector: {app: db}\n  ports: [{port: 5432, nodePort: 30000}]\n", "db"),
        svc("  selector: {app: none}\n  ports: [{port: 80}]\n", "lonely"),
        pod("web-1", "{app: web}"), pod("web-2", "{app: web, v: '2'}"), pod("other", "{app: other}"));
    const running = specs.pods.map((p, i) => ({ spec: p, node: `node${i + 1}` }));
    const r = planServices(specs.services, running);

    it("selects: every key and value of the selector, as Kubernetes' equality-based selectors; an empty one picks nothing", () => {
        const table: [Record<string, string>, Record<string, string>, boolean][] = [
            [{ app: "web" }, { app: "web", v: "2" }, true], [{ app: "web", v: "2" }, { app: "web" }, false], [{ app: "web" }, { app: "db" }, false], [{}, { app: "web" }, false]];
        for (const [selector, labels, want] of table) { assert.equal(selects(selector, labels), want, `${JSON.stringify(selector)} over ${JSON.stringify(labels)}`); }
    });

    it("the endpoints are the running pods the selector picks, with their nodes", () => {
        assert.deepEqual(r.services[0].endpoints, [{ pod: "web-1", node: "node1" }, { pod: "web-2", node: "node2" }]);
        assert.deepEqual(r.noEndpoints, ["db", "lonely"]);
    });

    it("a NodePort port that names no node port gets the lowest free one of 30000-32767 (30000 is db's), known at preview", () => {
        assert.equal(r.services[0].ports[0].nodePort, 30001);
        assert.equal(r.services[1].ports[0].nodePort, 30000);
        assert.equal(r.services[2].ports[0].nodePort, undefined, "a ClusterIP Service has none");
        assert.deepEqual(planServices(specs.services, running).services.map((s) => s.ports), r.services.map((s) => s.ports), "the same documents, the same ports");
    });

    it("the object as the API server gets it; one that picks no pod is not awaited (it would never have endpoints)", () => {
        assert.deepEqual(r.services[0].object, {
            apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default", labels: { "podnet-lab/runtime": "cluster" } },
            spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 80, nodePort: 30001, protocol: "TCP" }] },
        });
        assert.deepEqual(r.services[2].object.metadata.annotations, { "pulumi.com/skipAwait": "true" });
        assert.equal(r.services[2].resourceName, "lonely-service");
    });
});

describe("the sample Service web, under mocks", () => {
    let cluster: Run;
    let docker: Run;
    before(async () => {
        cluster = await runProgram({ ...DEV_CONFIG, podRuntime: "cluster" });
        docker = await runProgram({ ...DEV_CONFIG });
    });

    it("cluster mode: one Service object applied by the control plane's provider, after the web pods, deleted with the control plane", () => {
        const s = cluster.mocks.named("web-service");
        assert.equal(s.type, "kubernetes:core/v1:Service");
        assert.match(String(s.provider), /control-plane-provider/);
        assert.deepEqual(s.inputs.spec, { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 80, nodePort: 30080, protocol: "TCP" }] });
        const o = cluster.options.get("web-service");
        assert.ok(o);
        assert.equal(o.deleteBeforeReplace, true, "a fixed name: the old object goes before the new one");
        assert.equal(o.deletedWith, "control-plane-container");
        assert.deepEqual(cluster.ancestors("web-service"), ["lab"]);
    });

    it("cluster mode: the outputs name its ClusterIP, ports, selector and endpoints (the web pods and their IPs)", () => {
        assert.equal(cluster.outputs.services.length, 1);
        const out = cluster.outputs.services[0];
        assert.equal(out.name, "web");
        assert.equal(out.type, "NodePort");
        assert.match(out.clusterIp, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/, "from the Service range 10.96.0.0/12");
        assert.equal(out.selector, "app=web");
        assert.deepEqual(out.ports, [{ name: "http", port: 80, targetPort: 80, nodePort: 30080, protocol: "TCP" }]);
        const pods = new Map((cluster.outputs.pods as PodOutput[]).map((p) => [p.name, p]));
        assert.deepEqual((out as ServiceOutput).endpoints.map((e) => e.pod), ["web-1", "web-2", "web-3"]);
        for (const e of (out as ServiceOutput).endpoints) { assert.deepEqual({ node: e.node, ip: e.ip }, { node: pods.get(e.pod)?.node, ip: pods.get(e.pod)?.ip }); }
    });

    it("docker mode: no Service object, the outputs' services empty", () => {
        assert.equal(docker.mocks.ofType("kubernetes:core/v1:Service").length, 0);
        assert.deepEqual(docker.outputs.services, []);
    });
});
