// Self-healing nodes (R3, R4 of docs/model.md), on the running lab, from the outside: restart nodes and see
// the claims hold again with no deploy; delete a route by hand and see it come back; pause the node agent and
// see it stay broken. PODNET_OUTPUTS names the lab's outputs (default: the e2e stand-in's).
import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { docker, LabProbe, readOutputs, runClaims, sleep } from "../lab-probe";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
let lab: LabProbe;
const log = (line: string) => process.stdout.write(`# heal: ${line}\n`);
/** A node container's log, both streams (the node scripts report repairs on stderr). */
const nodeLog = (container: string, since: string) => execFileSync("sh", ["-c", `docker logs --since ${since} ${container} 2>&1`], { encoding: "utf8" });

/** The full claims, from outside (S10 runs in the claims after these checks). */
function claimsHold(what: string): void {
    const c = runClaims(OUTPUTS, "the heal checks keep every pod; S10 runs in the claims after them");
    log(`${what}: claims: ${c.summary}`);
    assert.ok(c.ok, `claims after ${what}:\n${c.failures}`);
}

before(() => { lab = new LabProbe(readOutputs(OUTPUTS), log); });

describe("R3: a node comes back whole after a restart, with no deploy", () => {
    it("docker restart of one node: bridge, routes, pods with the same IPs, traffic, within 30 s", async () => {
        const node = lab.node("node3");
        docker("restart", "-t", "1", node.container);
        await lab.healsWithin(30, `docker restart ${node.container}`);
        claimsHold("one node restarted");
    });

    it("once a restarted node's pods are wired again, each reaches a pod on another node at once (R6: the bridge's MAC is its own from the start)", async () => {
        const node = lab.node("node3");
        const pods = lab.out.pods.filter((p) => p.node === node.name);
        const target = lab.out.pods.find((p) => p.node !== node.name);
        assert.ok(pods.length && target, `${node.name} has pods, and another node has one`);
        docker("restart", "-t", "1", node.container);
        const t0 = Date.now();
        const wired = () => {
            try {
                const table = lab.onNode(node.name, "ip", "route");
                return node.routes.every((r) => table.includes(`${r.to} via ${r.via}`)) && pods.every((p) => lab.eth0(p.name, p.containers[0].name).inet === `${p.ip}/${node.podCidr.split("/")[1]}`);
            } catch { return false; }
        };
        while (!wired() && Date.now() - t0 < 30_000) { await sleep(200); }
        assert.ok(wired(), `${node.name}'s routes and pods are not back within 30 s`);
        log(`${node.name} restarted: its routes and pods wired again after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        const bridge = lab.onNode(node.name, "sh", "-c", `cat /sys/class/net/${node.bridge}/address /sys/class/net/${node.bridge}/addr_assign_type`).split("\n");
        assert.deepEqual(bridge, [node.bridgeMac, "3"], `${node.name}'s re-made bridge has its own MAC, set (addr_assign_type 3)`);
        for (const p of pods) {
            const s = await lab.firstAnswer(p.name, p.containers[0].name, target.ip, 60);
            log(`${p.name} -> ${target.name} (${target.ip}): first answer ${s.toFixed(1)}s after it was wired again`);
            assert.ok(s <= 1, `${p.name} reached ${target.name} only ${s.toFixed(1)}s after it was wired again (at most 1 s)`);
        }
        await lab.healsWithin(30, `docker restart ${node.container}`);
    });

    it("docker restart of two nodes at once: whole again within 30 s", async () => {
        const two = [lab.node("node1").container, lab.node("node2").container];
        docker("restart", "-t", "1", ...two);
        await lab.healsWithin(30, `docker restart ${two.join(" ")}`);
        claimsHold("two nodes restarted");
    });
});

/**
 * Restarts the host's Docker engine the way it was started here (a plain `dockerd`, as .ci/run does): only where
 * PODNET_E2E_RESTART_ENGINE=1 says this machine's engine is the test's to restart.
 */
async function restartEngine(): Promise<void> {
    const pid = Number(fs.readFileSync("/var/run/docker.pid", "utf8").trim());
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 150; i++) {
        try { process.kill(pid, 0); } catch { break; }
        await sleep(200);
    }
    fs.rmSync("/var/run/docker.pid", { force: true });
    const logFd = fs.openSync(process.env.PODNET_E2E_DOCKERD_LOG ?? "/tmp/podnet-e2e-dockerd.log", "a");
    spawn("dockerd", [], { detached: true, stdio: ["ignore", logFd, logFd] }).unref();
    for (let i = 0; i < 150; i++) {
        if (spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0) { return; }
        await sleep(200);
    }
    assert.fail("the host's Docker engine did not come back");
}

describe("R3: after the host's Docker engine restarts", () => {
    const skip = process.env.PODNET_E2E_RESTART_ENGINE === "1" ? false
        : "set PODNET_E2E_RESTART_ENGINE=1 where this machine's Docker engine is the test's to restart (.ci/run does)";
    it("the nodes start again (restart policy) and come back whole within 30 s", { skip }, async () => {
        const t0 = Date.now();
        await restartEngine();
        log(`host engine restarted in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        await lab.healsWithin(30, "host Docker engine restart");
        claimsHold("host engine restarted");
    });
});

describe("R4: drift repairs itself, unless the node agent is paused", () => {
    it("a route deleted by hand is back within 10 s", async () => {
        const n = lab.node("node1");
        const r = n.routes[0];
        lab.onNode(n.name, "ip", "route", "del", r.to, "via", r.via);
        assert.ok(!lab.onNode(n.name, "ip", "route").includes(`${r.to} via ${r.via}`), "the route was not deleted");
        await lab.healsWithin(10, `ip route del ${r.to} on ${n.name}`);
        assert.match(nodeLog(n.container, "30s"), new RegExp(`podnet: route ${r.to} via ${r.via}`), "the repair is not in the node's log");
    });

    it("a pod's app container stopped inside its node, then its sandbox killed: each time whole again within 10 s, same IP", async () => {
        // The agent keeps its last look at the pods' containers between passes; these changes must make it look again.
        const p = lab.pod("web-2");
        const app = p.containers[0];
        lab.onNode(p.node, "docker", "stop", "-t", "1", app.container);
        await lab.healsWithin(10, `docker stop ${app.container} on ${p.node}`);
        lab.onNode(p.node, "docker", "kill", p.sandbox);
        await lab.healsWithin(10, `docker kill ${p.sandbox} on ${p.node}`);
        const repairs = nodeLog(lab.node(p.node).container, "30s");
        assert.match(repairs, new RegExp(`pod ${p.name}: container /${app.container} started again`));
        assert.match(repairs, new RegExp(`pod ${p.name}: sandbox started again`));
        assert.match(repairs, new RegExp(`pod ${p.name}: network wired again \\(CNI DEL and ADD replayed, same IP\\)`));
    });

    it("paused, the agent leaves a deleted route deleted and says so in the node's log; resumed, it puts it back", async () => {
        const n = lab.node("node2");
        const r = n.routes[0];
        lab.onNode(n.name, "podnet-node-agent", "pause", "a test breaks a route");
        assert.match(lab.onNode(n.name, "podnet-node-agent", "status"), /^paused since .*: a test breaks a route$/);
        lab.onNode(n.name, "ip", "route", "del", r.to, "via", r.via);
        await sleep(5000);
        assert.ok(!lab.onNode(n.name, "ip", "route").includes(`${r.to} via ${r.via}`), "the paused agent repaired the route");
        assert.match(nodeLog(n.container, "60s"), /podnet-agent: paused by hand \(since .*: a test breaks a route\)/);
        lab.onNode(n.name, "podnet-node-agent", "resume");
        await lab.healsWithin(10, `resume on ${n.name}`);
    });
});
