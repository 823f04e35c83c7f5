// `npm run bench`: wall time of e2e:up and e2e:down through the engine stand-in, for 3 and 6 nodes.
// A benchmark, not a test: it prints a table and fails only if the lab itself fails.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../plan/load";
import { manualLabPath, timeManualLab } from "./manual";

const root = projectRoot();
const cli = path.join(root, "build", "tests", "e2e", "cli.js");
const state = path.join(root, ".lab", "e2e", "state.json");
const sizes = (process.env.BENCH_NODES ?? "3,6").split(",").map(Number);

function timed(verb: string, nodes: number): { seconds: number; ok: boolean; output: string } {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, verb], { cwd: root, encoding: "utf8", env: { ...process.env, PODNET_E2E_NODES: String(nodes) } });
    return { seconds: Number(process.hrtime.bigint() - t) / 1e9, ok: r.status === 0, output: r.stdout + r.stderr };
}

const manual = manualLabPath(root);

function manualRow(script: string): string {
    process.stdout.write("bench: manual-lab.sh: up, check, down...");
    const t = timeManualLab(script);
    process.stdout.write(" done\n");
    return `| ${"manual-lab.sh, 3 nodes".padEnd(22)} | ${"-".padStart(9)} | ${t.up.toFixed(1).padStart(6)} | ${t.down.toFixed(1).padStart(8)} |${t.ok ? "" : " FAILED"}`;
}

const rows: string[] = [];
let failed = false;
for (const n of sizes) {
    process.stdout.write(`bench: ${n} nodes: up...`);
    const up = timed("up", n);
    const resources = fs.existsSync(state) ? (JSON.parse(fs.readFileSync(state, "utf8")) as { created: unknown[] }).created.length : 0;
    process.stdout.write(" down...");
    const down = timed("down", n);
    process.stdout.write(" done\n");
    if (!up.ok || !down.ok) {
        failed = true;
        process.stdout.write(`bench: ${n} nodes failed:\n${up.ok ? "" : up.output}${down.ok ? "" : down.output}\n`);
    }
    rows.push(`| ${`lab, ${n} nodes`.padEnd(22)} | ${String(resources).padStart(9)} | ${up.seconds.toFixed(1).padStart(6)} | ${down.seconds.toFixed(1).padStart(8)} |${up.ok && down.ok ? "" : " FAILED"}`);
}
if (manual) { rows.push(manualRow(manual)); }
console.log(`\n| ${"run".padEnd(22)} | resources | up (s) | down (s) |\n|${"-".repeat(24)}|----------:|-------:|---------:|`);
for (const r of rows) { console.log(r); }
console.log("\nWall seconds of `e2e:up` / `e2e:down` (each a fresh node process, TypeScript already built) on this machine's");
console.log("Docker engine. manual-lab.sh is the hand-run reference: docker CLI, sequential, one image per node, teardown by rm -f.");
process.exit(failed ? 1 : 0);
