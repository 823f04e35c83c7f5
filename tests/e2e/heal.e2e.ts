// Self-healing nodes (R3, R4 of NETWORK-MODEL.md), on the running lab, from the outside: restart nodes and see
// the claims hold again with no deploy; delete a route by hand and see it come back; pause the node agent and
// see it stay broken. PODNET_OUTPUTS names the lab's outputs (default: the e2e stand-in's).
import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { docker, LabProbe, readOutputs, runClaims } from "../lab-probe";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
let lab: LabProbe;
const log = (line: string) => process.stdout.write(`# heal: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A node container's log, both streams (the node scripts report repairs on stderr). */
const nodeLog = (container: string, since: string) => execFileSync("sh", ["-c", `docker logs --since ${since} ${container} 2>&1`], { encoding: "utf8" });

/** What a learner would check first: bridges, routes, every pod's address, and traffic across nodes. */
function broken(): string | undefined {
    for (const n of lab.out.nodes) {
        if (docker("inspect", "-f", "{{.State.Running}}", n.container) !== "true") { return `${n.name} is not running`; }
        try {
            const table = lab.onNode(n.name, "ip", "route");
            const missing = n.routes.find((r) => !table.includes(`${r.to} via ${r.via}`));
            if (missing) { return `${n.name} lacks ${missing.to} via ${missing.via}`; }
            if (!lab.onNode(n.name, "ip", "-4", "addr", "show", n.bridge).includes(`inet ${n.bridgeIp}/`)) { return `${n.name}'s bridge has no address`; }
        } catch (e) { return `${n.name}: ${(e as Error).message.split("\n")[0]}`; }
    }
    for (const p of lab.out.pods) {
        try {
            for (const c of p.containers) {
                if (lab.eth0(p.name, c.name).inet?.split("/")[0] !== p.ip) { return `${p.name}/${c.name} does not have ${p.ip}`; }
            }
        } catch (e) { return `${p.name}: ${(e as Error).message.split("\n")[0]}`; }
    }
    const web = lab.out.pods.find((p) => p.containers.some((c) => c.name === "nginx") && p.node !== lab.pod("pod-net-test").node);
    try {
        if (web && !/^HTTP\/1\.[01] 200/.test(lab.httpGet("pod-net-test", "ubuntu", web.ip))) { return `pod-net-test does not reach ${web.name}`; }
    } catch (e) { return `pod-net-test -> ${web?.name}: ${(e as Error).message.split("\n")[0]}`; }
    return undefined;
}

/** Polls until nothing is broken; returns the seconds it took, or fails after `limit` seconds naming what is broken. */
async function healsWithin(limit: number, what: string): Promise<number> {
    const t0 = Date.now();
    let last: string | undefined = "not checked";
    while ((Date.now() - t0) / 1000 < limit) {
        last = broken();
        if (!last) {
            const s = (Date.now() - t0) / 1000;
            log(`${what}: whole again after ${s.toFixed(1)}s`);
            return s;
        }
        await sleep(500);
    }
    assert.fail(`${what}: still broken after ${limit}s: ${last}`);
}

/** The full claims, from outside (S10 runs in the claims after these checks). */
function claimsHold(what: string): void {
    const c = runClaims(OUTPUTS, "the heal checks keep every pod; S10 runs in the claims after them");
    log(`${what}: claims: ${c.summary}`);
    assert.ok(c.ok, `claims after ${what}:\n${c.failures}`);
}

before(() => { lab = new LabProbe(readOutputs(OUTPUTS)); });

describe("R3: a node comes back whole after a restart, with no deploy", () => {
    it("docker restart of one node: bridge, routes, pods with the same IPs, traffic, within 30 s", async () => {
        const node = lab.node("node3");
        docker("restart", "-t", "1", node.container);
        await healsWithin(30, `docker restart ${node.container}`);
        claimsHold("one node restarted");
    });

    it("docker restart of two nodes at once: whole again within 30 s", async () => {
        const two = [lab.node("node1").container, lab.node("node2").container];
        docker("restart", "-t", "1", ...two);
        await healsWithin(30, `docker restart ${two.join(" ")}`);
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
        await healsWithin(30, "host Docker engine restart");
        claimsHold("host engine restarted");
    });
});

describe("R4: drift repairs itself, unless the node agent is paused", () => {
    it("a route deleted by hand is back within 10 s", async () => {
        const n = lab.node("node1");
        const r = n.routes[0];
        lab.onNode(n.name, "ip", "route", "del", r.to, "via", r.via);
        assert.ok(!lab.onNode(n.name, "ip", "route").includes(`${r.to} via ${r.via}`), "the route was not deleted");
        await healsWithin(10, `ip route del ${r.to} on ${n.name}`);
        assert.match(nodeLog(n.container, "30s"), new RegExp(`podnet: route ${r.to} via ${r.via}`), "the repair is not in the node's log");
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
        await healsWithin(10, `resume on ${n.name}`);
    });
});
