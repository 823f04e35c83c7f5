// R6 of docs/model.md: the pods' gateway never moves. Each node's bridge has a MAC of its own, set when it is made
// (0a:58 + its address), so it does not follow its ports as they come and go: a bridge without one takes the lowest
// MAC among its ports, and once that port leaves, the pods' ARP entries for their gateway point at nothing and every
// packet leaving the node is lost until they are probed again (41 s measured here). Checked on a running lab (any
// model, plugin or runtime) from the outside, as a learner would: `ip link`, `ip neigh` in a pod, a request across
// nodes. PODNET_OUTPUTS names the lab's outputs (default: the e2e stand-in's). Leaves nothing behind.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { LabOutputs } from "../../plan/outputs";
import { LabProbe, readOutputs } from "../lab-probe";

const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(projectRoot(), ".lab", "e2e", "outputs.json");
const log = (line: string) => process.stdout.write(`# gateway: ${line}\n`);
/** The veth the test puts on a bridge: its host end gets the lowest unicast, locally administered MAC there is. */
const JUDGE = { veth: "gw-judge-a", peer: "gw-judge-b", mac: "02:00:00:00:00:01" };
let out: LabOutputs;
let lab: LabProbe;

/** The live MAC of a node's bridge, and how the kernel came by it (/sys/class/net/X/addr_assign_type: 3 = set by hand). */
const bridgeMac = (node: string) => lab.onNode(node, "cat", `/sys/class/net/${lab.node(node).bridge}/address`);
const assignType = (node: string) => lab.onNode(node, "cat", `/sys/class/net/${lab.node(node).bridge}/addr_assign_type`);
/** What a pod's ARP table holds for its gateway (the bridge's IP): its MAC, or "" when it has no entry. */
const gatewayEntry = (pod: string) => {
    const p = lab.pod(pod);
    const line = lab.onNode(p.node, "ip", "netns", "exec", p.name, "ip", "neigh", "show", lab.node(p.node).bridgeIp);
    return /lladdr (\S+)/.exec(line)?.[1] ?? "";
};

before(() => {
    out = readOutputs(OUTPUTS);
    lab = new LabProbe(out, log);
    assert.ok(out.podNetwork !== "docker0", "the gateway checks need a lab bridge (podNetwork lab or vxlan)");
});
after(() => {
    try { lab.onNode(lab.pod("pod-net-test").node, "sh", "-c", `ip link del ${JUDGE.veth} 2>/dev/null || true`); } catch { /* the node is gone */ }
});

describe("R6: each node's bridge has a MAC of its own", () => {
    it("every bridge has the MAC the outputs give (0a:58 + its address), set by the lab, not taken from a port; the pods' gateway entries hold it", () => {
        for (const n of out.nodes) {
            assert.equal(bridgeMac(n.name), n.bridgeMac, `${n.name}'s ${n.bridge}`);
            assert.equal(assignType(n.name), "3", `${n.name}'s ${n.bridge} MAC was set (addr_assign_type 3), not taken from a port`);
        }
        for (const p of out.pods) {
            // Every pod has talked to its gateway by now (the lab's checks); an entry, when there is one, is the bridge's.
            const entry = gatewayEntry(p.name);
            if (entry) { assert.equal(entry, lab.node(p.node).bridgeMac, `${p.name}'s ARP entry for its gateway`); }
        }
    });
});

describe("R6: a port with a lower MAC than every other comes and goes", () => {
    it("the bridge keeps its MAC while the port is on it and after it left, and a pod of that node reaches a pod on another node within 1 s of the removal", async () => {
        const from = lab.pod("pod-net-test");
        const node = lab.node(from.node);
        const to = out.pods.find((p) => p.node !== node.name);
        assert.ok(to, "a pod on another node");
        const ports = lab.onNode(node.name, "sh", "-c", `for p in $(ls /sys/class/net/${node.bridge}/brif); do cat /sys/class/net/$p/address; done`).split("\n").filter(Boolean);
        assert.ok(ports.length >= 1, `${node.bridge} has ports`);
        assert.ok(ports.every((m) => JUDGE.mac < m), `${JUDGE.mac} is lower than every port's MAC (${ports.join(", ")})`);
        const before = bridgeMac(node.name);

        lab.onNode(node.name, "sh", "-c", `ip link add ${JUDGE.veth} address ${JUDGE.mac} type veth peer name ${JUDGE.peer} && ` +
            `ip link set ${JUDGE.veth} master ${node.bridge} && ip link set ${JUDGE.veth} up`);
        const whileOn = bridgeMac(node.name);
        // The pod asks for its gateway's MAC again while the port is on the bridge (as it does every few minutes).
        lab.onNode(node.name, "ip", "netns", "exec", from.name, "ip", "neigh", "flush", "dev", "eth0");
        await lab.firstAnswer(from.name, "ubuntu", to.ip, 10);
        const learned = gatewayEntry(from.name);

        lab.onNode(node.name, "ip", "link", "del", JUDGE.veth);
        const s = await lab.firstAnswer(from.name, "ubuntu", to.ip, 60);
        const after = bridgeMac(node.name);
        log(`${node.bridge} on ${node.name}: ${before} before, ${whileOn} with ${JUDGE.mac} on it, ${after} after; pod-net-test's entry for ` +
            `${node.bridgeIp}: ${learned}; first answer from ${to.name} (${to.ip}) ${s.toFixed(1)}s after the port left`);
        assert.equal(whileOn, before, "the bridge's MAC moved when a port with a lower MAC joined");
        assert.equal(after, before, "the bridge's MAC moved when the port left");
        assert.equal(learned, before, "the pod's gateway entry is the bridge's own MAC");
        assert.ok(s <= 1, `pod-net-test reached ${to.name} only ${s.toFixed(1)}s after the port left (at most 1 s)`);
    });

    it("the node agent puts a changed bridge MAC back, and says so in the node's log", async () => {
        const node = lab.node("node2");
        const want = bridgeMac(node.name);
        lab.onNode(node.name, "ip", "link", "set", "dev", node.bridge, "address", "02:00:00:00:00:02");
        const t0 = Date.now();
        while (bridgeMac(node.name) !== want && Date.now() - t0 < 10_000) { await new Promise((r) => setTimeout(r, 200)); }
        const back = bridgeMac(node.name);
        // A pod that asked for its gateway in those seconds learned the wrong MAC: it asks again.
        for (const p of out.pods.filter((x) => x.node === node.name)) { lab.onNode(node.name, "ip", "netns", "exec", p.name, "ip", "neigh", "flush", "dev", "eth0"); }
        assert.equal(back, want, "the agent did not put the bridge's MAC back within 10 s");
        log(`${node.name}: ${node.bridge}'s MAC changed by hand, back after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        const said = execFileSync("sh", ["-c", `docker logs --since 60s ${node.container} 2>&1`], { encoding: "utf8" });
        assert.match(said, new RegExp(`podnet: ${node.bridge} MAC ${want}`), "the repair is in the node's log");
    });
});
