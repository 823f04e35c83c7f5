// Cluster mode (podRuntime: cluster): a real control plane on the LAN, every node's kubelet registered with it, the
// pods as Pod objects. Judged by Kubernetes' own kubectl (v1.34.0, built from the Go module proxy by
// tests/e2e/images/build.sh), with the admin kubeconfig the lab wrote, and by what the components log themselves.
// The claims K1-K4 (docs/model.md). Needs a cluster-mode lab up (cli.ts), after the claims: this suite applies seed
// 001's own manifest, stops and starts the control plane, and restarts node3.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as yaml from "js-yaml";
import { contains, ipToNumber, parseCidr } from "../../plan/ip";
import { projectRoot } from "../../plan/load";
import { LabOutputs } from "../../plan/outputs";
import { KUBERNETES_VERSION } from "../../plan/runtimes/cluster";
import { docker, LabProbe, readOutputs, until } from "../lab-probe";
import { kubectl as kubectlWith } from "./state";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
let out: LabOutputs;
let lab: LabProbe;
let cp: NonNullable<LabOutputs["controlPlane"]>;
const kubectl = (...args: string[]) => kubectlWith(out.kubeconfig ?? "", args);
const onNode = (node: string, ...cmd: string[]) => lab.onNode(node, ...cmd);
const onControlPlane = (...cmd: string[]) => docker("exec", cp.container, ...cmd);

interface KNode { metadata: { name: string; uid: string }; spec: { podCIDR?: string; podCIDRs?: string[] }; status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } } }
interface KPod { metadata: { name: string; namespace: string; uid: string }; spec: { nodeName?: string }; status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] } }
const nodes = async () => (JSON.parse(await kubectl("get", "nodes", "-o", "json")) as { items: KNode[] }).items;
const pods = async (ns = "default") => (JSON.parse(await kubectl("-n", ns, "get", "pods", "-o", "json")) as { items: KPod[] }).items;
const ready = (conds: { type: string; status: string }[] | undefined) => conds?.find((c) => c.type === "Ready")?.status === "True";

interface CniCall { pod: string; plugin: string; caller?: string; exit: number; env: Record<string, string> }
const cniCalls = (node: string): CniCall[] =>
    onNode(node, "sh", "-c", "cat /var/log/podnet-cni.log.1 /var/log/podnet-cni.log 2>/dev/null || true")
        .split("\n").filter(Boolean).map((l) => JSON.parse(l) as CniCall);
const cniArgs = (c: CniCall) => new Map(c.env.CNI_ARGS.split(";").map((kv) => kv.split("=") as [string, string]));

/** Seed 001's own manifest (examples/), its images mapped to the ones the e2e nodes hold (no registry here). */
function seedManifest(): string {
    const m = yaml.load(fs.readFileSync(path.join(root, "examples", "pod-network-test.yaml"), "utf8")) as { spec: { containers: { name: string; image: string; imagePullPolicy?: string }[] } };
    const offline: Record<string, string> = { "nginx:latest": "podnet-e2e/web:test", "ubuntu:latest": "podnet-e2e/client:test" };
    for (const c of m.spec.containers) { c.image = offline[c.image] ?? c.image; c.imagePullPolicy = "IfNotPresent"; }
    return JSON.stringify(m);
}


before(() => {
    out = readOutputs(OUTPUTS);
    lab = new LabProbe(out, (l) => console.log(l));
    assert.equal(out.podRuntime, "cluster", "this suite needs a lab in cluster mode (PODNET_E2E_POD_RUNTIME=cluster)");
    assert.ok(out.controlPlane && out.kubeconfig, "the outputs name the control plane and its kubeconfig");
    cp = out.controlPlane;
});

describe("the control plane", () => {
    it(`etcd, kube-apiserver, kube-controller-manager and kube-scheduler ${KUBERNETES_VERSION} run in one container on the LAN, each logging to its own file`, () => {
        const status = onControlPlane("podnet-control-plane", "status");
        for (const c of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
            assert.match(status, new RegExp(`^${c}: running;`, "m"), status);
        }
        assert.deepEqual(onControlPlane("ls", "/var/log/kubernetes").split("\n").sort(),
            ["audit.log", "etcd.log", "kube-apiserver.log", "kube-controller-manager.log", "kube-scheduler.log"]);
        assert.equal(onControlPlane("kube-apiserver", "--version"), `Kubernetes ${KUBERNETES_VERSION}`);
        assert.equal(docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", cp.container), cp.lanIp);
    });

    it("the API server is published on the host's 127.0.0.1 only, and refuses anonymous requests", async () => {
        const bindings = JSON.parse(docker("inspect", "-f", "{{json .HostConfig.PortBindings}}", cp.container)) as Record<string, { HostIp: string; HostPort: string }[]>;
        assert.deepEqual(bindings["6443/tcp"], [{ HostIp: "127.0.0.1", HostPort: new URL(cp.server).port }]);
        const code = await new Promise<number>((resolve, reject) => {
            https.get(`${cp.server}/api`, { rejectUnauthorized: false }, (r) => { r.resume(); resolve(r.statusCode ?? 0); }).on("error", reject);
        });
        assert.equal(code, 401, "no client certificate, no token: 401 Unauthorized");
    });

    it("the admin kubeconfig: the stack's secret output, and the file .lab/<stack>/kubeconfig (mode 0600), for the 127.0.0.1 port", () => {
        const file = path.join(root, cp.kubeconfigFile);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.readFileSync(file, "utf8").trim(), (out.kubeconfig ?? "").trim());
        const k = yaml.load(out.kubeconfig ?? "") as { clusters: { cluster: { server: string } }[]; users: { user: Record<string, string> }[] };
        assert.equal(k.clusters[0].cluster.server, cp.server);
        assert.ok(k.users[0].user["client-certificate-data"] && k.users[0].user["client-key-data"], "a client certificate, inline");
    });
});

describe("K1: every node is a registered Node whose spec.podCIDR is its lab subnet", () => {
    it("Nodes node1..nodeN, Ready, InternalIP = the node's LAN IP, kubelet v1.34.0 on containerd; spec.podCIDR = the range in the node's conflist", async () => {
        const items = await nodes();
        assert.deepEqual(items.map((n) => n.metadata.name).sort(), out.nodes.map((n) => n.name).sort());
        for (const n of out.nodes) {
            const k = items.find((x) => x.metadata.name === n.name)!;
            assert.ok(ready(k.status.conditions), `${n.name} is not Ready`);
            assert.equal(k.status.addresses.find((a) => a.type === "InternalIP")?.address, n.lanIp);
            assert.equal(k.status.nodeInfo.kubeletVersion, KUBERNETES_VERSION);
            assert.match(k.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
            const conflist = JSON.parse(onNode(n.name, "cat", "/etc/cni/net.d/10-podnet.conflist")) as { plugins: { ipam: { ranges: { subnet: string }[][] } }[] };
            const subnet = conflist.plugins[0].ipam.ranges[0][0].subnet;
            assert.deepEqual([k.spec.podCIDR, k.spec.podCIDRs, subnet], [n.podCidr, [n.podCidr], n.podCidr], n.name);
        }
        console.log(await kubectl("get", "nodes", "-o", "custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR,IP:.status.addresses[0].address"));
    });

    it("each kubelet has its own identity, CN=system:node:<node> in O=system:nodes, signed by the lab CA; its key never left its node", () => {
        const ca = onControlPlane("openssl", "x509", "-in", "/etc/kubernetes/pki/ca.crt", "-noout", "-subject", "-nameopt", "compat");
        assert.equal(ca, "subject=/CN=podnet-lab-ca");
        for (const n of out.nodes) {
            const cert = onNode(n.name, "openssl", "x509", "-in", "/var/lib/kubelet/pki/kubelet-client.crt", "-noout", "-subject", "-issuer", "-nameopt", "compat");
            assert.equal(cert, `subject=/O=system:nodes/CN=system:node:${n.name}\nissuer=/CN=podnet-lab-ca`);
            onNode(n.name, "sh", "-c", "openssl verify -CAfile /var/lib/kubelet/pki/ca.crt /var/lib/kubelet/pki/kubelet-client.crt >/dev/null");
        }
        const keys = onControlPlane("sh", "-c", "cd /etc/kubernetes/pki && ls *.key").split("\n").sort();
        assert.deepEqual(keys, ["admin.key", "apiserver-kubelet-client.key", "ca.key", "controller-manager.key", "kube-apiserver.key", "sa.key", "scheduler.key"],
            "the control plane's own identities only: no node's key");
    });
});

describe("K2: the pods are Pod objects, and a pod made with kubectl is scheduled and wired by the same CNI plugin", () => {
    it("kubectl get pods -o wide: each lab pod Running on the node the lab placed it, with the IP in the stack output", async () => {
        const items = await pods();
        for (const p of out.pods) {
            const k = items.find((x) => x.metadata.name === p.name);
            assert.ok(k, `no Pod ${p.name}`);
            assert.deepEqual([k.spec.nodeName, k.status.phase, k.status.podIP], [p.node, "Running", p.ip], p.name);
        }
        console.log(await kubectl("get", "pods", "-A", "-o", "wide"));
    });

    it("the CNI calls for the lab's pods came from containerd, under each Pod object's name and namespace", () => {
        for (const p of out.pods) {
            const add = cniCalls(p.node).filter((c) => c.env.CNI_COMMAND === "ADD" && cniArgs(c).get("K8S_POD_NAME") === p.name).pop();
            assert.ok(add, `no ADD for ${p.name} on ${p.node}`);
            assert.deepEqual([add.caller, cniArgs(add).get("K8S_POD_NAMESPACE"), add.exit], ["containerd", "default", 0], p.name);
        }
    });
});

describe("K3: seed 001's commands, as written", () => {
    it("on the lab's pod-net-test: both containers show one eth0 address; ubuntu reaches nginx on localhost; nginx's log shows 127.0.0.1", async () => {
        const p = lab.pod("pod-net-test");
        const nginx = await kubectl("exec", "pod-net-test", "-c", "nginx", "--", "ip", "a");
        const ubuntu = await kubectl("exec", "pod-net-test", "-c", "ubuntu", "--", "ip", "a");
        const eth0 = (s: string) => /eth0@\S+[\s\S]*?inet (\S+)/.exec(s)?.[1];
        assert.equal(eth0(nginx), `${p.ip}/${out.nodes.find((n) => n.name === p.node)!.podCidr.split("/")[1]}`);
        assert.equal(eth0(ubuntu), eth0(nginx), "one network namespace: the same eth0");
        console.log(`kubectl exec pod-net-test -c nginx -- ip a\n${nginx}`);
        // The seed's `curl http://localhost`; the e2e image is busybox, whose HTTP client is wget.
        const page = await kubectl("exec", "pod-net-test", "-c", "ubuntu", "--", "wget", "-qO-", "http://localhost");
        assert.match(page, /hello from podnet-lab web \(pod-net-test\)/);
        const logs = await kubectl("logs", "pod-net-test", "-c", "nginx");
        assert.match(logs, /127\.0\.0\.1\]:\d+: url:\//, "the request came from the pod's own loopback");
    });

    it("seed 001's own manifest, `kubectl apply -f` (in a namespace of its own): scheduled, wired by podnet through containerd, same commands; deleted, its CNI DEL", async () => {
        // A namespace of its own, made anew (a pod-net-test there from an earlier run of this suite goes with the old one).
        await kubectl("delete", "namespace", "seed001", "--ignore-not-found", "--wait=true", "--timeout=120s");
        await kubectl("create", "namespace", "seed001");
        assert.match(await kubectlWith(out.kubeconfig ?? "", ["-n", "seed001", "apply", "-f", "-"], seedManifest()), /pod\/pod-net-test created/);
        const k = await until("seed001/pod-net-test Ready", 120, async () => {
            const x = (await pods("seed001")).find((q) => q.metadata.name === "pod-net-test");
            return x && ready(x.status.conditions) ? x : undefined;
        });
        const node = out.nodes.find((n) => n.name === k.spec.nodeName);
        assert.ok(node, `scheduled to ${k.spec.nodeName}, a node of the lab`);
        assert.ok(contains(parseCidr(node.podCidr)!, ipToNumber(k.status.podIP ?? "")!), `${k.status.podIP} is in ${node.name}'s ${node.podCidr}`);
        const scheduled = JSON.parse(await kubectl("-n", "seed001", "get", "events", "--field-selector", "reason=Scheduled", "-o", "json")) as { items: { message: string }[] };
        assert.ok(scheduled.items.some((e) => e.message.includes(`seed001/pod-net-test to ${node.name}`)), "the scheduler chose its node");
        const add = cniCalls(node.name).filter((c) => c.env.CNI_COMMAND === "ADD" && cniArgs(c).get("K8S_POD_NAMESPACE") === "seed001").pop();
        assert.ok(add, "containerd called the podnet plugin for it");
        assert.deepEqual([add.caller, cniArgs(add).get("K8S_POD_NAME"), add.exit], ["containerd", "pod-net-test", 0]);
        // The chain, each component in its own log: API server (audit) -> scheduler -> kubelet -> containerd -> podnet.
        const chain = [
            ["the API server's audit log", onControlPlane("sh", "-c", "grep -h '\"namespace\":\"seed001\",\"name\":\"pod-net-test\"' /var/log/kubernetes/audit.log | grep '\"verb\":\"create\"' | tail -n 1")],
            ["the scheduler's log", onControlPlane("sh", "-c", "grep -h 'Successfully bound pod to node' /var/log/kubernetes/kube-scheduler.log | grep 'seed001/pod-net-test' | tail -n 1")],
            ["kubelet's log", onNode(node.name, "sh", "-c", "grep -h 'SyncLoop ADD' /var/log/kubelet.log | grep 'seed001/pod-net-test' | tail -n 1")],
            ["containerd's log", onNode(node.name, "sh", "-c", "grep -h 'RunPodSandbox for' /var/log/containerd.log | grep 'Name:pod-net-test' | grep 'Namespace:seed001' | tail -n 1")],
            ["the podnet plugin's log", onNode(node.name, "sh", "-c", `grep -h '"CNI_COMMAND":"ADD"' /var/log/podnet-cni.log | grep -F '${add.env.CNI_CONTAINERID}' | tail -n 1`)],
        ];
        for (const [where, line] of chain) { assert.ok(line, `no line for seed001/pod-net-test in ${where}`); }
        console.log(`the chain for seed001/pod-net-test:\n${chain.map(([where, line]) => `${where}:\n  ${line.slice(0, 400)}`).join("\n")}`);
        const a = await kubectl("-n", "seed001", "exec", "pod-net-test", "-c", "nginx", "--", "ip", "a");
        const b = await kubectl("-n", "seed001", "exec", "pod-net-test", "-c", "ubuntu", "--", "ip", "a");
        assert.match(a, new RegExp(`inet ${k.status.podIP}/`));
        assert.match(b, new RegExp(`inet ${k.status.podIP}/`));
        assert.match(await kubectl("-n", "seed001", "exec", "pod-net-test", "-c", "ubuntu", "--", "wget", "-qO-", "http://localhost"), /hello from podnet-lab web/);
        assert.match(await kubectl("-n", "seed001", "logs", "pod-net-test", "-c", "nginx"), /127\.0\.0\.1\]:\d+: url:\//);
        // Reached from another node's pod, with its own address (no NAT), like every pod.
        const from = out.pods.find((p) => p.node !== node.name)!;
        assert.match(lab.httpGet(from.name, from.containers[0].name, k.status.podIP ?? ""), /^HTTP\/1\.[01] 200/);

        const t0 = Date.now();
        await kubectl("-n", "seed001", "delete", "pod", "pod-net-test", "--grace-period=1", "--wait=true");
        const del = cniCalls(node.name).filter((c) => c.env.CNI_COMMAND === "DEL" && cniArgs(c).get("K8S_POD_NAMESPACE") === "seed001").pop();
        assert.ok(del, "containerd ran the CNI DEL");
        assert.deepEqual([del.caller, del.exit], ["containerd", 0]);
        console.log(`seed001/pod-net-test: scheduled to ${node.name}, ${k.status.podIP}; deleted in ${((Date.now() - t0) / 1000).toFixed(1)}s with its CNI DEL`);
        await kubectl("delete", "namespace", "seed001", "--wait=false");
    });
});

describe("K4: the data plane does not need the control plane", () => {
    it("with the control plane stopped the pods keep reaching each other; started again, it is ready and nothing was re-created", async () => {
        const before = new Map((await pods()).map((p) => [p.metadata.name, p.metadata.uid]));
        const sandboxes = new Map(out.pods.map((p) => [p.name, lab.containersOf(p.name).find((c) => c.name === "POD")?.id]));
        docker("stop", "-t", "2", cp.container);
        try {
            assert.equal(lab.whatIsBroken(), undefined, "every pod reaches across nodes with the control plane stopped");
            for (const a of out.pods) {
                for (const b of out.pods.filter((x) => x !== a && x.node !== a.node)) {
                    assert.match(lab.httpGet(a.name, a.containers[0].name, b.ip), /^HTTP\/1\.[01] 200/, `${a.name} -> ${b.name}`);
                }
            }
        } finally {
            docker("start", cp.container);
        }
        const t0 = Date.now();
        onControlPlane("podnet-control-plane", "ready", "120");
        console.log(`control plane ready again ${((Date.now() - t0) / 1000).toFixed(1)}s after its start`);
        await until("every Node Ready again", 60, async () => ((await nodes()).every((n) => ready(n.status.conditions)) ? true : undefined));
        const after = await pods();
        assert.deepEqual(new Map(after.map((p) => [p.metadata.name, p.metadata.uid])), before, "the same Pod objects");
        for (const p of out.pods) {
            assert.equal(lab.containersOf(p.name).find((c) => c.name === "POD")?.id, sandboxes.get(p.name), `${p.name}'s sandbox`);
        }
    });
});

describe("a node restarted", () => {
    it("its kubelet registers again, its pods come back in new sandboxes, and the API's pod IP is the live one", async () => {
        const p = lab.pod("web-3");
        const n = lab.node(p.node);
        const oldSandbox = lab.containersOf(p.name).find((c) => c.name === "POD")?.id;
        docker("restart", "-t", "2", n.container);
        const t0 = Date.now();
        // Ready again, in a new sandbox, and the API server says the address that sandbox has (kubelet reports it).
        const { k, live } = await until(`${p.name} Running again on ${n.name}, its new IP reported`, 120, async () => {
            const sandbox = lab.containersOf(p.name).find((c) => c.name === "POD")?.id;
            if (!sandbox || sandbox === oldSandbox) { return undefined; }
            const ip = /inet (\d+\.\d+\.\d+\.\d+)/.exec(onNode(n.name, "ip", "-n", p.name, "-4", "addr", "show", "eth0"))?.[1];
            const node = (await nodes()).find((x) => x.metadata.name === n.name);
            const x = (await pods()).find((q) => q.metadata.name === p.name);
            return ip && node && ready(node.status.conditions) && x && ready(x.status.conditions) && x.status.podIP === ip ? { k: x, live: ip } : undefined;
        });
        console.log(`${p.name}: Ready again after ${((Date.now() - t0) / 1000).toFixed(1)}s in a new sandbox, API podIP ${k.status.podIP} = live eth0 ${live} (the stack output says ${p.ip})`);
        assert.ok(contains(parseCidr(n.podCidr)!, ipToNumber(live)!), `${live} is in ${n.podCidr}`);
        const from = lab.pod("pod-net-test");
        await until(`pod-net-test reaches ${p.name} at ${live}`, 15, async () => (/^HTTP\/1\.[01] 200/.test(lab.httpGet(from.name, "ubuntu", live)) ? true : undefined));
    });
});
