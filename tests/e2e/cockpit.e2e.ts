// The cockpit (`npm run podnet -- …`) on the running e2e lab, as a learner would run it.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { Pair } from "../../cockpit/matrix";
import { Status } from "../../cockpit/status";
import { LabOutputs } from "../../plan/outputs";
import { RUNTIMES } from "../../plan/runtimes";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
const cockpit = path.join(root, "build", "cockpit", "main.js");
const podnet = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cockpit, ...args, "--outputs", OUTPUTS], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const log = (line: string) => process.stdout.write(`# cockpit: ${line}\n`);
const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as LabOutputs;
/** Kubelet or cluster mode: kubelet and containerd built the pods; docker mode: the lab's own steps. */
const kubelet = out.podRuntime !== "docker";

/**
 * A copy of the outputs in which one pod's IP is another free address of its node's subnet: the stack output no longer
 * says the address the pod has, as after a node restart in kubelet mode (a new sandbox, a new IP). Returns its path.
 */
function staleOutputs(pod: string): { file: string; said: string; live: string } {
    const live = (JSON.parse(podnet("status", "--json").stdout) as Status).pods.find((x) => x.name === pod)?.liveIp;
    assert.ok(live, `${pod} has no live IP`);
    const said = live.replace(/\.\d+$/, ".200");
    assert.ok(!out.pods.some((x) => x.ip === said), `${said} is some pod's`);
    const file = path.join(os.tmpdir(), `podnet-stale-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...out, pods: out.pods.map((x) => (x.name === pod ? { ...x, ip: said } : x)) }));
    return { file, said, live };
}

describe("cockpit on the e2e lab", () => {
    it("status: no difference on a healthy lab; each pod says who built it", () => {
        const r = podnet("status");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /no differences: the lab is as declared/);
        assert.doesNotMatch(r.stdout, /notes \(not differences\)/);
        for (const p of out.pods) {
            const said = RUNTIMES[out.podRuntime].builtBy(p);
            assert.ok(r.stdout.includes(`  ${p.name}: ${said}\n`), `status does not say "${p.name}: ${said}":\n${r.stdout}`);
        }
        const json = JSON.parse(podnet("status", "--json").stdout) as Status;
        assert.deepEqual(json.pods.map((p) => [p.name, p.runtime, p.containers.map((c) => c.state).join()]),
            out.pods.map((p) => [p.name, out.podRuntime, p.containers.map(() => "running").join()]));
        assert.deepEqual(json.notes, []);
    });

    it("matrix --json: every pod reaches every pod with its own address; the outside host sees the node's (masquerade)", () => {
        const t0 = Date.now();
        const r = podnet("matrix", "--json");
        log(`matrix of the sample lab in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const pairs = (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs;
        const services = out.services ?? [];
        assert.equal(pairs.length, out.pods.length * (out.pods.length + services.length), "n*(n-1) pod pairs, n outside probes and (cluster mode) n per Service");
        for (const p of pairs) {
            const from = out.pods.find((x) => x.name === p.from)!;
            if (p.path === "service") {
                // A column per Service: answered by a pod it selects, which saw the client's own IP, unless it was the client (hairpin).
                const svc = services.find((v) => `svc/${v.name}` === p.to)!;
                const by = svc.endpoints.find((e) => e.pod === p.endpoint);
                assert.ok(p.reached && by, `${p.from} -> ${p.to}: answered by ${p.endpoint}, not one of ${svc.endpoints.map((e) => e.pod).join(", ")}`);
                if (p.endpoint === p.from) {
                    assert.deepEqual([p.nat, p.sourceSeen], [true, out.nodes.find((n) => n.name === from.node)!.bridgeIp], `${p.from} -> ${p.to}: hairpin, masqueraded behind its bridge`);
                } else {
                    assert.deepEqual([p.sourceSeen, p.nat], [from.ip, false], `${p.from} -> ${p.to} (answered by ${p.endpoint})`);
                }
            } else if (p.path === "outside") {
                assert.equal(p.sourceSeen, out.nodes.find((n) => n.name === from.node)!.lanIp, `${p.from} -> outside`);
                assert.equal(p.nat, true);
            } else {
                assert.deepEqual([p.reached, p.sourceSeen, p.nat], [true, from.ip, false], `${p.from} -> ${p.to}`);
            }
        }
    });

    it("cni POD: the pod's last ADD as its node's runtime ran it, plugin by plugin, with the real CNI_* variables", () => {
        const web = out.pods.find((p) => p.name === "web-1")!;
        const r = podnet("cni", "web-1");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`plugins ${out.cniPlugin} -> portmap`));
        assert.match(r.stdout, /CNI_COMMAND=ADD\n/);
        assert.ok(r.stdout.includes(`"address":"${web.ip}/`), "the result holds the pod's IP");
        const json = JSON.parse(podnet("cni", "web-1", "--json").stdout) as { kubeletName?: string; calls: { plugin: string; caller?: string; env: Record<string, string> }[] };
        if (kubelet) {
            // containerd ran the conflist; the podnet plugin logged the call it got, under the name kubelet gave the pod.
            assert.match(r.stdout, new RegExp(`^pod web-1 on node1 \\(kubelet name ${web.sandbox}\\): its last CNI ADD, as containerd ran it for kubelet$`, "m"));
            assert.match(r.stdout, /^1\. podnet: exit 0 at \S+, called by containerd$/m);
            assert.match(r.stdout, /so the call to portmap is not shown/);
            assert.equal(json.kubeletName, web.sandbox);
            assert.deepEqual(json.calls.map((c) => [c.plugin, c.caller]), [["podnet", "containerd"]]);
            const args = new Map(json.calls[0].env.CNI_ARGS.split(";").map((kv) => kv.split("=") as [string, string]));
            assert.equal(args.get("K8S_POD_NAME"), web.sandbox, "kubelet mode: web-1-node1; cluster mode: the Pod object's name");
            // The pod's UID, which the CNI caller only knows from kubelet: a static pod's is a hash kubelet made of its
            // manifest; a Pod object's, the UUID the API server gave it.
            assert.match(args.get("K8S_POD_UID") ?? "", out.podRuntime === "cluster" ? /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ : /^[0-9a-f]{32}$/);
            assert.match(json.calls[0].env.CNI_NETNS, /^\/var\/run\/netns\/cni-/, "containerd's own namespace name");
        } else {
            assert.match(r.stdout, /^1\. \S+: exit 0/m);
            assert.match(r.stdout, /CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=[0-9a-f]{64}/);
            assert.deepEqual(json.calls.map((c) => c.plugin), [out.cniPlugin, "portmap"]);
        }
        assert.equal(podnet("cni", "no-such-pod").status, 2);
    });

    it("trace: the hops of a same-node pair and of a cross-node pair", () => {
        const same = podnet("trace", "pod-net-test", "web-1");
        assert.equal(same.status, 0, same.stderr);
        assert.match(same.stdout, /pod pod-net-test +leaves +eth0/);
        assert.match(same.stdout, /node1 +veth +veth[0-9a-f]{8} +on bridge v-net-0/);
        assert.match(same.stdout, /node1 +bridge +v-net-0 +to veth[0-9a-f]{8} \(same node\)/);
        assert.match(same.stdout, /=> same node/);
        const cross = podnet("trace", "pod-net-test", "web-3", "--json");
        const hops = (JSON.parse(cross.stdout) as { hops: { at: string; what: string; address?: string }[] }).hops;
        assert.deepEqual(hops.map((h) => `${h.at} ${h.what}`), [
            "pod pod-net-test leaves", "node1 veth", "node1 routes", "LAN podnet-e2e-lan crosses", "node3 routes", "node3 bridge", "pod web-3 arrives",
        ]);
        assert.equal(hops[3].address, "192.168.1.11 -> 192.168.1.13");
    });

    it("break route shows in status and matrix (and trace says the packet is lost); fix puts it back", () => {
        const br = podnet("break", "route", "node1", "node3");
        assert.equal(br.status, 0, br.stderr);
        assert.match(br.stdout, /node agent is paused/);
        const s = podnet("status");
        assert.equal(s.status, 1);
        assert.match(s.stdout, /! node1: route 10\.244\.3\.0\/24 via 192\.168\.1\.13 is missing/);
        const m = podnet("matrix");
        assert.equal(m.status, 1);
        assert.match(m.stdout, /pod-net-test +web-3 \(10\.244\.3\.2\) +NO/);
        assert.match(podnet("trace", "pod-net-test", "web-3").stdout, /=> lost: node1 has no route to node3's pod subnet/);
        const f = podnet("fix");
        assert.equal(f.status, 0, f.stdout);
        assert.equal(podnet("status").status, 0);
        assert.equal(podnet("matrix").status, 0);
    });

    it("diagram --svg: a picture naming every pod, with the last matrix", () => {
        const file = path.join(os.tmpdir(), `podnet-${process.pid}.svg`);
        const r = podnet("diagram", "--svg", file);
        assert.equal(r.status, 0, r.stderr);
        const svg = fs.readFileSync(file, "utf8");
        for (const p of out.pods) { assert.ok(svg.includes(`pod ${p.name}  ${p.ip}`), `no ${p.name}`); }
        assert.match(svg, /last matrix/);
        fs.rmSync(file);
    });

    it(`a stack output that no longer says web-3's address (as after a node restart in kubelet mode): ${kubelet
        ? "status notes the new IP and stays clean; matrix and trace use the live IP" : "status marks it, in docker mode a difference"}`, () => {
        const stale = staleOutputs("web-3");
        const at = (...args: string[]) => spawnSync(process.execPath, [cockpit, ...args, "--outputs", stale.file], { encoding: "utf8", timeout: 60_000 });
        try {
            const s = at("status");
            if (!kubelet) {
                assert.equal(s.status, 1, s.stdout);
                assert.ok(s.stdout.includes(`! web-3: eth0 has ${stale.live}, declared ${stale.said}`), s.stdout);
                return;
            }
            assert.equal(s.status, 0, s.stdout + s.stderr);
            assert.ok(s.stdout.includes(`notes (not differences):\n  - web-3: a new sandbox has ${stale.live} (the stack output says ${stale.said}: kubelet mode gives a new sandbox a new IP, as Kubernetes does)`), s.stdout);
            assert.match(s.stdout, /no differences: the lab is as declared/);
            const m = at("matrix", "--json");
            assert.equal(m.status, 0, m.stdout + m.stderr);
            const { pairs, notes } = JSON.parse(m.stdout) as { pairs: Pair[]; notes: string[] };
            assert.deepEqual([...new Set(pairs.filter((p) => p.to === "web-3").map((p) => `${p.toIp} ${p.reached}`))], [`${stale.live} true`]);
            // (to its own Service, web-3 may be answered by itself: that one is masqueraded, as the model says)
            const own = (p: Pair) => p.path === "service" && p.endpoint === p.from;
            assert.ok(pairs.filter((p) => p.from === "web-3" && p.path !== "outside" && !own(p)).every((p) => p.sourceSeen === stale.live && p.nat === false), "web-3 seen with its live IP, no NAT");
            assert.equal(notes.length, 1);
            const t = at("trace", "pod-net-test", "web-3");
            assert.equal(t.status, 0, t.stderr);
            assert.equal(t.stdout.split("\n")[0], `trace pod-net-test (${out.pods.find((p) => p.name === "pod-net-test")!.ip}) -> web-3 (${stale.live})`);
            assert.match(t.stdout, /^ {2}note: web-3: a new sandbox has /m);
            assert.match(t.stdout, /=> across nodes/);
        } finally {
            fs.rmSync(stale.file, { force: true });
        }
    });
});
