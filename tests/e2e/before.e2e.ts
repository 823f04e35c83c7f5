// The "before" state (S6, podNetwork docker0): the same pods on each node's own docker0. The cockpit's matrix
// shows what the model fixes: the same addresses on different nodes, and pods on other nodes out of reach.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Pair } from "../../cockpit/matrix";
import { projectRoot } from "../../plan/load";

const root = projectRoot();
const OUTPUTS = path.join(root, ".lab", "e2e", "outputs.json");

describe("S6: the 'before' state (podNetwork docker0)", () => {
    it("the same addresses on different nodes; cross-node pairs fail or reach the wrong pod; matrix exits non-zero", () => {
        const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as { podNetwork: string; pods: { name: string; ip: string; node: string }[] };
        assert.equal(out.podNetwork, "docker0");
        const byIp = new Map<string, string[]>();
        for (const p of out.pods) { byIp.set(p.ip, [...(byIp.get(p.ip) ?? []), `${p.name}@${p.node}`]); }
        const dupes = [...byIp].filter(([, pods]) => pods.length > 1);
        process.stdout.write(`# before: pod IPs: ${out.pods.map((p) => `${p.name}@${p.node}=${p.ip}`).join(", ")}\n`);
        assert.ok(dupes.length > 0, "no two pods on different nodes share an address");
        const r = spawnSync(process.execPath, [path.join(root, "build", "cockpit", "main.js"), "matrix", "--json", "--outputs", OUTPUTS], { encoding: "utf8" });
        assert.equal(r.status, 1, "the matrix must say the model does not hold");
        const pairs = (JSON.parse(r.stdout) as { pairs: Pair[] }).pairs;
        const cross = pairs.filter((p) => p.path === "across nodes");
        assert.ok(cross.length > 0);
        for (const p of cross) { assert.ok(!p.reached || p.answeredBy, `${p.from} -> ${p.to} reached the right pod across nodes`); }
        const wrong = cross.filter((p) => p.answeredBy);
        process.stdout.write(`# before: ${cross.length} cross-node pairs: ${cross.filter((p) => !p.reached).length} not reached, ${wrong.length} answered by the wrong pod (${wrong.map((p) => `${p.from}->${p.to} got ${p.answeredBy}`).join(", ")})\n`);
    });
});
