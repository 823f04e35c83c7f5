// Services in cluster mode (docs/services.md, claims V1-V6 of docs/model.md): every node's kube-proxy, the Service
// web's ClusterIP and NodePort reached from a pod, from a web pod itself (hairpin) and from the outside host, the
// client's own IP seen by the pod that answers, the EndpointSlice and the stack outputs agreeing, the conntrack
// entry with both tuples, the Service found by name through the cluster DNS, and kube-proxy stopped on one node.
// Judged by Kubernetes' own kubectl and by what the kernel and the pods say. Needs a cluster-mode lab up (cli.ts),
// routed or over the overlay; it leaves the lab as it found it.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { LabOutputs, ServiceOutput } from "../../plan/outputs";
import { docker, LabProbe, readOutputs, until } from "../lab-probe";
import { kubectl as kubectlWith } from "./state";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
let out: LabOutputs;
let lab: LabProbe;
let web: ServiceOutput;
const kubectl = (...args: string[]) => kubectlWith(out.kubeconfig ?? "", args);
const onNode = (node: string, ...cmd: string[]) => lab.onNode(node, ...cmd);
/** web's port and NodePort, from the outputs (the real-CLI suite runs this suite after editing the port too). */
let port: number;
let nodePort: number;
const GET = (host: string, to = port, wait = 2) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${wait} ${host} ${to}`;
/** Which web pod answered: the page names it ("hello from podnet-lab web (web-2)"). */
const answeredBy = (reply: string) => /hello from podnet-lab web \(([^)]+)\)/.exec(reply)?.[1];
const log = (line: string) => console.log(`# services: ${line}`);


before(() => {
    out = readOutputs(OUTPUTS);
    lab = new LabProbe(out, (l) => console.log(l));
    assert.equal(out.podRuntime, "cluster", "this suite needs a lab in cluster mode (PODNET_E2E_POD_RUNTIME=cluster)");
    const found = out.services.find((s) => s.name === "web");
    assert.ok(found, "the outputs name the Service web (pods/web-service.yaml)");
    web = found;
    port = web.ports[0].port;
    nodePort = web.ports[0].nodePort ?? 0;
    assert.ok(nodePort, "web is a NodePort Service");
});

describe("V1: kube-proxy on every node turns the Service into iptables rules", () => {
    it("kube-proxy runs on every node, in iptables mode, as system:kube-proxy; web's chains are in every node's nat table", () => {
        for (const n of out.nodes) {
            assert.match(onNode(n.name, "sh", "-c", "pgrep -a kube-proxy"), /kube-proxy --config=\/var\/lib\/kube-proxy\/config\.yaml/, `${n.name}: kube-proxy runs`);
            assert.equal(onNode(n.name, "openssl", "x509", "-in", "/var/lib/kube-proxy/pki/kube-proxy.crt", "-noout", "-subject", "-nameopt", "compat"),
                "subject=/O=system:node-proxier/CN=system:kube-proxy");
            const nat = onNode(n.name, "iptables-save", "-t", "nat");
            assert.match(nat, new RegExp(`-A KUBE-SERVICES -d ${web.clusterIp}/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport ${port} -j KUBE-SVC-\\w+`), `${n.name}: the ClusterIP's rule`);
            assert.match(nat, new RegExp(`-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport ${nodePort} -j KUBE-EXT-\\w+`), `${n.name}: the NodePort's rule`);
            const seps = nat.split("\n").filter((l) => /^-A KUBE-SEP-\w+ .*-j DNAT .*--to-destination/.test(l) && l.includes("default/web:http"));
            assert.deepEqual(seps.map((l) => /--to-destination (\S+)/.exec(l)?.[1]).sort(), web.endpoints.map((e) => `${e.ip}:80`).sort(), `${n.name}: one DNAT per endpoint`);
        }
    });

    it("the EndpointSlice of web holds the web pods' IPs, as the stack outputs say; its ClusterIP and NodePort are the outputs'", async () => {
        const slices = JSON.parse(await kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json")) as { items: { endpoints: { addresses: string[]; targetRef?: { name: string } }[] }[] };
        const live = slices.items.flatMap((s) => s.endpoints.map((e) => `${e.targetRef?.name}=${e.addresses[0]}`)).sort();
        assert.deepEqual(live, web.endpoints.map((e) => `${e.pod}=${e.ip}`).sort());
        const svc = JSON.parse(await kubectl("get", "service", "web", "-o", "json")) as { spec: { clusterIP: string; type: string; ports: { nodePort: number }[] } };
        assert.deepEqual({ ip: svc.spec.clusterIP, type: svc.spec.type, nodePort: svc.spec.ports[0].nodePort }, { ip: web.clusterIp, type: "NodePort", nodePort });
        log(await kubectl("get", "svc,endpointslices", "-o", "wide"));
    });
});

describe("V2, V3: a pod reaches the ClusterIP; the answering pod sees the client's own IP; the requests are spread", () => {
    it("pod-net-test -> web's ClusterIP: answered by a web pod, whose log shows pod-net-test's IP (no source NAT between pods)", () => {
        const client = out.pods.find((p) => p.name === "pod-net-test")!;
        const reply = lab.inPod("pod-net-test", "ubuntu", "sh", "-c", GET(web.clusterIp));
        const by = answeredBy(reply);
        assert.ok(by && web.endpoints.some((e) => e.pod === by), `answered by a web pod: ${reply}`);
        assert.match(lab.logsOf(by, "nginx"), new RegExp(`\\[(::ffff:)?${client.ip.replace(/\./g, "\\.")}\\]:\\d+: url:/`), `${by}'s log shows ${client.ip}`);
        // The client's node remembers the choice: one conntrack entry with both tuples (to the ClusterIP, back from the pod).
        const chosen = web.endpoints.find((e) => e.pod === by)!.ip;
        // (an earlier run's entries to another port of the same ClusterIP may still be there, in TIME_WAIT: the port is matched too)
        const both = new RegExp(`src=${client.ip} dst=${web.clusterIp} sport=\\d+ dport=${port} .*src=${chosen} dst=${client.ip} sport=80 `);
        const entries = onNode(client.node, "sh", "-c", `grep -F 'src=${client.ip} dst=${web.clusterIp} ' /proc/net/nf_conntrack || true`).split("\n");
        const entry = entries.filter((l) => both.test(l)).pop() ?? "";
        assert.match(entry, both, `a conntrack entry to ${web.clusterIp}:${port} answered by ${chosen}, among:\n${entries.join("\n")}`);
        log(`pod-net-test -> ${web.clusterIp}:${port} answered by ${by}; conntrack on ${client.node}: ${entry.replace(/\s+/g, " ")}`);
    });

    it("30 requests to the ClusterIP reach at least two different web pods", () => {
        const loop = `for i in $(seq 30); do ${GET(web.clusterIp, port, 1)} | grep -o 'web ([^)]*)'; done`;
        const by = lab.inPod("pod-net-test", "ubuntu", "sh", "-c", loop).split("\n").filter(Boolean);
        const counts = Object.fromEntries([...new Set(by)].map((b) => [b, by.filter((x) => x === b).length]));
        log(`30 requests: ${JSON.stringify(counts)}`);
        assert.ok(by.length >= 28, `most requests answered: ${by.length}`);
        assert.ok(Object.keys(counts).length >= 2, `at least two pods answered: ${JSON.stringify(counts)}`);
    });

    it("V4, hairpin: a web pod reaching its own Service is answered by itself too (its bridge port in hairpin mode)", async () => {
        const me = web.endpoints[0];
        const node = out.nodes.find((n) => n.name === me.node)!;
        const veth = lab.hostVeth(me.pod);
        assert.ok(veth, `${me.pod}'s host veth`);
        assert.match(onNode(node.name, "ip", "-d", "link", "show", "dev", veth), /hairpin on/, `${veth} is in hairpin mode`);
        await until(`${me.pod} answered by itself through ${web.clusterIp}`, 30, () => (answeredBy(lab.inPod(me.pod, "nginx", "sh", "-c", GET(web.clusterIp, port, 1))) === me.pod ? true : undefined));
    });
});

describe("V5: the NodePort, from outside the cluster", () => {
    it("the outside host reaches <every node's LAN IP>:<nodePort> and is answered by a web pod", () => {
        for (const n of out.nodes) {
            const reply = docker("exec", out.outside.container, "sh", "-c", GET(n.lanIp, nodePort));
            assert.ok(answeredBy(reply), `${n.lanIp}:${nodePort} from ${out.outside.name}: ${reply}`);
        }
    });

    it("a node with no pod of the Service forwards its NodePort to one that has one; the pod sees that node's address (external traffic is masqueraded)", async () => {
        // A Service of one web pod alone (labelled for it here, and taken away after), reached through the other nodes.
        const one = web.endpoints[0].pod;
        const only = out.pods.find((p) => p.name === one)!;
        await kubectl("label", "pod", one, "podnet-e2e/only=yes");
        const manifest = JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "one-web-only" }, spec: { type: "NodePort", selector: { "podnet-e2e/only": "yes" }, ports: [{ port: 80, nodePort: 30099 }] } });
        try {
            await kubectlWith(out.kubeconfig ?? "", ["apply", "-f", "-"], manifest);
            const others = out.nodes.filter((x) => x.name !== only.node);
            assert.ok(others.length > 0, "a node without it");
            for (const n of others) {
                const reply = await until(`${n.lanIp}:30099`, 30, () => answeredBy(docker("exec", out.outside.container, "sh", "-c", GET(n.lanIp, 30099))));
                assert.equal(reply, one);
                const seen = lab.logsOf(one, "nginx").split("\n").filter((l) => /url:\//.test(l)).pop() ?? "";
                // (masqueraded to the address the node sends from towards the pod: its LAN IP, or over the overlay its VTEP's)
                const mine = [n.lanIp, ...(n.vxlan ? [n.vxlan.vtepIp] : [])];
                assert.ok(mine.some((a) => seen.includes(`${a}]`)), `${one} saw ${n.name}'s address (${mine.join(" or ")}), not the outside host's (${out.outside.ip}): ${seen}`);
                assert.ok(!seen.includes(out.outside.ip), `the outside host's address is masqueraded: ${seen}`);
            }
        } finally {
            await kubectl("delete", "service", "one-web-only", "--ignore-not-found");
            await kubectl("label", "pod", one, "podnet-e2e/only-");
        }
    });
});

describe("the trace of a Service request (npm run podnet -- trace SRC svc/NAME)", () => {
    interface Trace { hops: { at: string; what: string; address?: string; detail: string }[]; verdict: string }
    const podnet = (...args: string[]): Trace => {
        const r = spawnSync(process.execPath, [path.join(root, "build", "cockpit", "main.js"), ...args, "--json", "--outputs", OUTPUTS], { encoding: "utf8", timeout: 60_000 });
        assert.equal(r.status, 0, `podnet ${args.join(" ")}: ${r.stderr}${r.stdout}`);
        return JSON.parse(r.stdout) as Trace;
    };
    const what = (t: Trace) => t.hops.map((h) => h.what);

    it("pod-net-test -> svc/web: KUBE-SERVICES, KUBE-SVC, the DNAT to a web pod, the conntrack entry with both tuples, the pod-to-pod path, the reply rewritten back", () => {
        const client = out.pods.find((p) => p.name === "pod-net-test")!;
        const t = podnet("trace", "pod-net-test", "svc/web");
        log(`trace pod-net-test svc/web: ${t.verdict}`);
        const dnat = t.hops.find((h) => h.what === "DNAT");
        const to = /--to-destination (\S+):80$/.exec(dnat?.detail ?? "")?.[1];
        const chosen = web.endpoints.find((e) => e.ip === to);
        assert.ok(chosen, `the DNAT goes to a web pod: ${dnat?.detail}`);
        assert.match(t.hops.find((h) => h.what === "matches")?.detail ?? "", new RegExp(`^-A KUBE-SERVICES -d ${web.clusterIp}/32 .*-j KUBE-SVC-`));
        assert.match(t.hops.find((h) => h.what === "conntrack")?.detail ?? "", new RegExp(`src=${client.ip} dst=${web.clusterIp} sport=\\d+ dport=${port} src=${chosen.ip} dst=${client.ip} sport=80`));
        const arrives = t.hops.find((h) => h.what === "arrives");
        assert.equal(arrives?.at, `pod ${chosen.pod}`);
        if (chosen.node !== client.node) { assert.ok(what(t).includes("crosses"), `across nodes: ${what(t).join(" ")}`); }
        assert.equal(what(t).at(-1), "reply");
        assert.match(t.verdict, new RegExp(`^Service web: ${web.clusterIp}:${port} was DNATed on ${client.node} to ${chosen.pod}`));
    });

    it("outside -> svc/web@<a node>: KUBE-NODEPORTS, KUBE-EXT's mark, the DNAT, the masquerade behind that node, a web pod answering", () => {
        const n = out.nodes[out.nodes.length - 1];
        const t = podnet("trace", out.outside.name, `svc/web@${n.name}`);
        log(`trace outside svc/web@${n.name}: ${t.verdict}`);
        assert.match(t.hops.find((h) => h.what === "matches")?.detail ?? "", new RegExp(`^-A KUBE-NODEPORTS .*--dport ${nodePort} -j KUBE-EXT-`));
        assert.ok(what(t).includes("DNAT") && what(t).includes("SNAT"), what(t).join(" "));
        assert.match(t.hops.find((h) => h.what === "conntrack")?.detail ?? "", new RegExp(`src=${out.outside.ip} dst=${n.lanIp} sport=\\d+ dport=${nodePort} `));
        assert.match(t.verdict, new RegExp(`^Service web: ${n.lanIp}:${nodePort} on ${n.name} was DNATed to web-\\d`));
    });
});

describe("V6: a pod finds a Service by name through the cluster DNS", () => {
    it("CoreDNS runs behind kube-dns at the tenth address of the Service range; each pod's resolv.conf names it", async () => {
        assert.ok(out.clusterDns, "the outputs name the cluster DNS");
        const svc = JSON.parse(await kubectl("-n", "kube-system", "get", "service", "kube-dns", "-o", "json")) as { spec: { clusterIP: string } };
        assert.equal(svc.spec.clusterIP, out.clusterDns.ip);
        const dns = JSON.parse(await kubectl("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns", "-o", "json")) as { items: { status: { phase: string } }[] };
        assert.deepEqual(dns.items.map((p) => p.status.phase), ["Running"]);
        const resolv = lab.inPod("pod-net-test", "ubuntu", "cat", "/etc/resolv.conf");
        assert.match(resolv, new RegExp(`^nameserver ${out.clusterDns.ip.replace(/\./g, "\\.")}$`, "m"), resolv);
        assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m, resolv);
    });

    it("pod-net-test looks up web.default.svc.cluster.local, and web: both give web's ClusterIP; a request by name is answered", async () => {
        for (const name of ["web.default.svc.cluster.local", "web"]) {
            const answer = await until(`${name} resolved`, 30, () => {
                const a = lab.inPod("pod-net-test", "ubuntu", "sh", "-c", `nslookup ${name} 2>&1 || true`);
                return a.includes(web.clusterIp) ? a : undefined;
            });
            log(`nslookup ${name} in pod-net-test:\n${answer.trim()}`);
        }
        assert.ok(answeredBy(lab.inPod("pod-net-test", "ubuntu", "sh", "-c", GET("web"))), "a request to http://web/ is answered by a web pod");
    });
});

describe("kube-proxy stopped on one node (break and fix)", () => {
    it("its rules flushed: that node's pods no longer reach the ClusterIP, the others still do; started again, they do", async () => {
        const broken = out.nodes[out.nodes.length - 1];
        const there = out.pods.find((p) => p.node === broken.name && p.containers.length)!;
        const elsewhere = out.pods.find((p) => p.name === "pod-net-test")!;
        assert.notEqual(elsewhere.node, broken.name);
        const container = there.containers[0].name;
        onNode(broken.name, "podnet-node-agent", "pause", "services.e2e: kube-proxy stopped on purpose");
        try {
            onNode(broken.name, "sh", "-c", "pkill -f 'podnet-kubelet prox[y]-run'; pkill -x kube-proxy; sleep 0.5; kube-proxy --cleanup >/dev/null 2>&1 || true");
            assert.doesNotMatch(onNode(broken.name, "iptables-save", "-t", "nat"), /KUBE-SERVICES/, "kube-proxy --cleanup removed its chains");
            assert.equal(answeredBy(lab.inPod(there.name, container, "sh", "-c", `${GET(web.clusterIp, port, 1)} || true`)), undefined, `${there.name} on ${broken.name} gets no answer from ${web.clusterIp}`);
            assert.ok(answeredBy(lab.inPod("pod-net-test", "ubuntu", "sh", "-c", GET(web.clusterIp))), `pod-net-test on ${elsewhere.node} still does`);
        } finally {
            onNode(broken.name, "podnet-node-agent", "resume");
        }
        const t = await until(`${there.name} answered through ${web.clusterIp} after the agent started kube-proxy again`, 60,
            () => (answeredBy(lab.inPod(there.name, container, "sh", "-c", `${GET(web.clusterIp, port, 1)} || true`)) ? true : undefined));
        assert.ok(t);
    });
});
