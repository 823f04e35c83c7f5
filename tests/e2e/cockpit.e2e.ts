// The cockpit (`npm run podnet -- …`) on the running e2e lab, as a learner would run it.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { Pair } from "../../cockpit/matrix";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
const cockpit = path.join(root, "build", "cockpit", "main.js");
const podnet = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cockpit, ...args, "--outputs", OUTPUTS], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const log = (line: string) => process.stdout.write(`# cockpit: ${line}\n`);

describe("cockpit on the e2e lab", () => {
    it("status: no difference on a healthy lab", () => {
        const r = podnet("status");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /no differences: the lab is as declared/);
    });

    it("matrix --json: every pod reaches every pod with its own address; the outside host sees the node's (masquerade)", () => {
        const t0 = Date.now();
        const r = podnet("matrix", "--json");
        log(`matrix of the sample lab in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as { pods: { name: string; ip: string; node: string }[]; nodes: { name: string; lanIp: string }[] };
        const pairs = (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs;
        assert.equal(pairs.length, out.pods.length * out.pods.length, "n*(n-1) pod pairs and n outside probes");
        for (const p of pairs) {
            const from = out.pods.find((x) => x.name === p.from)!;
            if (p.path === "outside") {
                assert.equal(p.sourceSeen, out.nodes.find((n) => n.name === from.node)!.lanIp, `${p.from} -> outside`);
                assert.equal(p.nat, true);
            } else {
                assert.deepEqual([p.reached, p.sourceSeen, p.nat], [true, from.ip, false], `${p.from} -> ${p.to}`);
            }
        }
    });

    it("cni POD: the pod's last ADD as its node's runtime ran it, plugin by plugin, with the real CNI_* variables", () => {
        const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as { cniPlugin?: string; pods: { name: string; ip: string }[] };
        const web = out.pods.find((p) => p.name === "web-1")!;
        const r = podnet("cni", "web-1");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`plugins ${out.cniPlugin} -> portmap`));
        assert.match(r.stdout, /^1\. \S+: exit 0/m);
        assert.match(r.stdout, /CNI_COMMAND=ADD\n/);
        assert.match(r.stdout, /CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=[0-9a-f]{64}/);
        assert.ok(r.stdout.includes(`"address":"${web.ip}/`), "the result holds the pod's IP");
        const json = JSON.parse(podnet("cni", "web-1", "--json").stdout) as { calls: { plugin: string }[] };
        assert.deepEqual(json.calls.map((c) => c.plugin), [out.cniPlugin, "portmap"]);
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
        const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as { pods: { name: string; ip: string }[] };
        for (const p of out.pods) { assert.ok(svg.includes(`pod ${p.name}  ${p.ip}`), `no ${p.name}`); }
        assert.match(svg, /last matrix/);
        fs.rmSync(file);
    });
});
