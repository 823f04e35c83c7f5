// The overlay model (podNetwork vxlan, seed 002), checked on a running lab from the outside, as a learner would
// look: the VXLAN device, the per-peer entries, no routed-mode routes, the UDP packets on the LAN with the pod IP
// inside, the device's counters, and an MTU that fits. Needs a lab up in vxlan mode (the e2e flow brings one up).
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { LabOutputs } from "../../plan/outputs";
import { LabProbe, readOutputs, sleep } from "../lab-probe";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
let out: LabOutputs;
let lab: LabProbe;

/** The node's LAN interface: the one holding its LAN address. */
const lanDev = (node: string) => lab.onNode(node, "sh", "-c", `ip -o -4 addr show | awk '$4 ~ /^${lab.node(node).lanIp.replace(/\./g, "\\.")}\\// {print $2}'`);
const counter = (node: string, dev: string, what: "tx_packets" | "rx_packets") => Number(lab.onNode(node, "cat", `/sys/class/net/${dev}/statistics/${what}`));
/** ping from a pod's namespace, with the node's iputils ping (it can set Don't Fragment); never throws. */
const ping = (pod: string, ...args: string[]) => {
    const p = lab.pod(pod);
    const r = spawnSync("docker", ["exec", lab.node(p.node).container, "ip", "netns", "exec", pod, "ping", ...args], { encoding: "utf8", timeout: 20_000 });
    return { ok: r.status === 0, text: `${r.stdout}${r.stderr}` };
};

before(() => {
    out = readOutputs(OUTPUTS);
    lab = new LabProbe(out);
    assert.equal(out.podNetwork, "vxlan", `these outputs are not a vxlan lab's (podNetwork ${out.podNetwork})`);
});

describe("the overlay: one VXLAN device per node, static entries per peer", () => {
    it("every node has vxlan.1: VNI 1, UDP 4789, on its LAN interface and address, no learning, MTU 1450", () => {
        for (const n of out.nodes) {
            const v = n.vxlan;
            assert.ok(v, `${n.name} has no vxlan output`);
            const text = lab.onNode(n.name, "ip", "-d", "link", "show", v.device);
            assert.match(text, new RegExp(`vxlan id ${v.vni} local ${n.lanIp.replace(/\./g, "\\.")} dev ${lanDev(n.name)} .*dstport ${v.port} nolearning`), text);
            assert.match(text, new RegExp(`mtu ${v.mtu} `));
            assert.equal(v.mtu, 1450);
            assert.match(text, new RegExp(`link/ether ${v.mac} `));
            assert.match(lab.onNode(n.name, "ip", "-4", "addr", "show", "dev", v.device), new RegExp(`inet ${v.vtepIp.replace(/\./g, "\\.")}/32 `));
        }
    });

    it("each peer's subnet goes into vxlan.1 via the peer's VTEP, whose MAC is a permanent neighbour behind the peer's LAN IP (FDB); no route via a LAN IP", () => {
        for (const n of out.nodes) {
            const v = n.vxlan!;
            const table = lab.onNode(n.name, "ip", "route");
            const neigh = lab.onNode(n.name, "ip", "neigh", "show", "dev", v.device);
            const fdb = lab.onNode(n.name, "bridge", "fdb", "show", "dev", v.device);
            const peers = out.nodes.filter((p) => p.name !== n.name);
            assert.equal(n.routes.length, peers.length);
            for (const p of peers) {
                const pv = p.vxlan!;
                assert.ok(table.split("\n").some((l) => l.trim() === `${p.podCidr} via ${pv.vtepIp} dev ${v.device} onlink`), `${n.name}: no overlay route to ${p.podCidr}:\n${table}`);
                assert.ok(neigh.includes(`${pv.vtepIp} lladdr ${pv.mac} PERMANENT`), `${n.name}: no neighbour ${pv.vtepIp}:\n${neigh}`);
                assert.ok(fdb.includes(`${pv.mac} dst ${p.lanIp} self permanent`), `${n.name}: no FDB entry to ${p.lanIp}:\n${fdb}`);
            }
            for (const p of peers) {
                assert.ok(!table.includes(`via ${p.lanIp}`), `${n.name} still has a routed-mode route via ${p.lanIp}:\n${table}`);
            }
        }
    });

    it("pods get MTU 1450 on both ends of their veth: the LAN's 1500 less 50 bytes of VXLAN", () => {
        for (const p of out.pods) {
            assert.match(lab.inPod(p.name, p.containers[0].name, "ip", "link", "show", "eth0"), / mtu 1450 /, `${p.name}'s eth0`);
            const veth = lab.hostVeth(p.name);
            assert.ok(veth, `${p.name} has no host veth`);
            assert.match(lab.onNode(p.node, "ip", "link", "show", veth), / mtu 1450 /, `${p.name}'s host veth`);
        }
    });
});

describe("the overlay carries the traffic", () => {
    it("a request across nodes goes through vxlan.1: its packet counters grow on both nodes, and the server logs the client's pod IP", () => {
        const from = lab.pod("pod-net-test");
        const to = lab.pod("web-3");
        assert.notEqual(from.node, to.node);
        const dev = lab.node(from.node).vxlan!.device;
        const tx = counter(from.node, dev, "tx_packets");
        const rx = counter(to.node, dev, "rx_packets");
        const before = lab.logsOf("web-3", "nginx").split("\n").length;
        assert.match(lab.httpGet("pod-net-test", "ubuntu", to.ip), /^HTTP\/1\.[01] 200/);
        assert.ok(counter(from.node, dev, "tx_packets") > tx, `${from.node}'s ${dev} sent nothing`);
        assert.ok(counter(to.node, dev, "rx_packets") > rx, `${to.node}'s ${dev} received nothing`);
        const log = lab.logsOf("web-3", "nginx").split("\n").slice(before - 1).join("\n");
        assert.ok(log.includes(`[::ffff:${from.ip}]`), `web-3 did not see ${from.ip}:\n${log}`);
    });

    it("a capture on node1's LAN interface shows the outer UDP 4789 packet between LAN IPs, with the pod IPs inside", () => {
        const from = lab.pod("pod-net-test");
        const to = lab.pod("web-3");
        const a = lab.node(from.node), b = lab.node(to.node);
        const capture = spawnSync("docker", ["exec", a.container, "sh", "-c",
            `timeout 10 tcpdump -ni ${lanDev(a.name)} -c 1 -v 'udp port 4789 and dst host ${b.lanIp}' 2>/dev/null & sleep 1; ` +
            `ip netns exec ${from.name} ping -c 3 -i 0.3 -W 1 ${to.ip} >/dev/null; wait`], { encoding: "utf8", timeout: 30_000 });
        const text = capture.stdout;
        assert.match(text, new RegExp(`${a.lanIp.replace(/\./g, "\\.")}\\.\\d+ > ${b.lanIp.replace(/\./g, "\\.")}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 1`), `no outer VXLAN packet:\n${text}${capture.stderr}`);
        assert.match(text, new RegExp(`${from.ip.replace(/\./g, "\\.")} > ${to.ip.replace(/\./g, "\\.")}: ICMP echo request`), `the inner packet is not pod to pod:\n${text}`);
    });

    it("MTU: a Don't-Fragment packet of the pod's full MTU (1450) crosses nodes; with the wrong MTU (1500 in the pod) a full-size one is refused", () => {
        const from = lab.pod("pod-net-test");
        const to = lab.pod("web-3");
        const right = ping(from.name, "-M", "do", "-c", "1", "-W", "2", "-s", String(1450 - 28), to.ip);
        assert.ok(right.ok, `1450-byte DF ping failed:\n${right.text}`);
        // The wrong MTU, for a moment: the pod's eth0 and its host veth at the LAN's 1500 (the agent is paused so it
        // does not interfere), then a 1500-byte DF packet: the node cannot fit it into vxlan.1 and says so.
        const node = from.node;
        const veth = lab.hostVeth(from.name)!;
        lab.onNode(node, "podnet-node-agent", "pause", "vxlan.e2e: the wrong MTU, for a moment");
        try {
            lab.onNode(node, "ip", "netns", "exec", from.name, "ip", "link", "set", "eth0", "mtu", "1500");
            lab.onNode(node, "ip", "link", "set", veth, "mtu", "1500");
            const wrong = ping(from.name, "-M", "do", "-c", "1", "-W", "2", "-s", String(1500 - 28), to.ip);
            assert.ok(!wrong.ok, `a 1500-byte DF packet crossed the overlay:\n${wrong.text}`);
            assert.match(wrong.text, /Frag needed and DF set \(mtu = 1450\)|message too long/i, wrong.text);
        } finally {
            lab.onNode(node, "ip", "netns", "exec", from.name, "ip", "link", "set", "eth0", "mtu", "1450");
            lab.onNode(node, "ip", "link", "set", veth, "mtu", "1450");
            lab.onNode(node, "podnet-node-agent", "resume");
        }
        assert.ok(ping(from.name, "-M", "do", "-c", "1", "-W", "2", "-s", String(1450 - 28), to.ip).ok, "the right MTU does not work again");
    });

    it("the cockpit's trace shows the encapsulation hop: vxlan.1, the outer LAN addresses and UDP 4789", () => {
        const r = spawnSync(process.execPath, [path.join(root, "build", "cockpit", "main.js"), "trace", "pod-net-test", "web-3", "--json", "--outputs", OUTPUTS], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const t = JSON.parse(r.stdout) as { hops: { at: string; what: string; interface?: string; address?: string; detail: string }[]; verdict: string };
        const a = lab.node(lab.pod("pod-net-test").node), b = lab.node(lab.pod("web-3").node);
        const encaps = t.hops.find((h) => h.what === "encaps");
        assert.equal(encaps?.interface, "vxlan.1", JSON.stringify(t.hops));
        assert.match(encaps.detail, new RegExp(`behind ${b.lanIp.replace(/\./g, "\\.")}$`));
        const lan = t.hops.find((h) => h.what === "crosses");
        assert.equal(lan?.address, `${a.lanIp} -> ${b.lanIp}`);
        assert.match(lan.detail, /UDP 4789, VXLAN VNI 1/);
        assert.ok(t.hops.some((h) => h.what === "decaps" && h.at === b.name));
        assert.match(t.verdict, /over the overlay/);
    });
});

describe("the overlay heals like the routed network", () => {
    it("an FDB entry deleted by hand comes back (the node agent), and traffic to that peer flows again", async () => {
        const from = lab.pod("pod-net-test"), to = lab.pod("web-3");
        const n = lab.node(from.node), peer = lab.node(to.node);
        const entry = `${peer.vxlan!.mac} dst ${peer.lanIp}`;
        const fdb = () => lab.onNode(n.name, "bridge", "fdb", "show", "dev", n.vxlan!.device);
        // Deleted and looked at under the node scripts' lock, so the agent (which repairs under it) cannot put the
        // entry back in between: the check sees the deletion itself.
        const after = lab.onNode(n.name, "sh", "-c", `. /usr/local/bin/podnet-lib && locked && ` +
            `bridge fdb del ${peer.vxlan!.mac} dev ${n.vxlan!.device} dst ${peer.lanIp} self && bridge fdb show dev ${n.vxlan!.device}`);
        assert.ok(!after.includes(entry), "the FDB entry was not deleted");
        const t0 = Date.now();
        while (!fdb().includes(entry)) {
            assert.ok(Date.now() - t0 < 20_000, `${n.name}'s agent did not put back ${entry} within 20s`);
            await sleep(250);
        }
        assert.match(lab.httpGet(from.name, "ubuntu", to.ip), /^HTTP\/1\.[01] 200/);
        const nodeLog = spawnSync("docker", ["logs", "--tail", "200", n.container], { encoding: "utf8" });
        assert.ok(`${nodeLog.stdout}${nodeLog.stderr}`.includes(`podnet: fdb ${entry} dev ${n.vxlan!.device}`), "the repair is not in the node's log");
    });

    it("a restarted node comes back with its VXLAN device and peers, and the lab is whole", async () => {
        const n = lab.node("node2");
        spawnSync("docker", ["restart", "-t", "1", n.container]);
        await lab.healsWithin(40, "node2 restarted (vxlan)");
        assert.match(lab.onNode(n.name, "ip", "-d", "link", "show", n.vxlan!.device), /vxlan id 1 /);
    });
});
