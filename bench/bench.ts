// `npm run bench`: wall time of e2e:up and e2e:down through the engine stand-in, for 3 and 6 nodes, and of the
// cockpit's full matrix on each lab (with more pods for the larger lab: how it grows with the pod count).
// The cockpit's status and matrix are timed twice: the verb itself (`node build/cockpit/main.js`), and as typed
// (`npm run podnet -- …`, through bin/podnet.js's build check). A benchmark, not a test: it prints tables and fails
// only if the lab itself fails.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../plan/load";
import { realCliMissing } from "../tests/real/stack";
import { manualLabPath, ManualTiming, timeManualLab } from "./manual";
import { Census, censusTable } from "./census";
import { benchRealCli, RealRow } from "./real";

const root = projectRoot();
const cli = path.join(root, "build", "tests", "e2e", "cli.js");
const state = path.join(root, ".lab", "e2e", "state.json");
const sizes = (process.env.BENCH_NODES ?? "3,6").split(",").map(Number);

/** The sample pods plus 2 more per node beyond the third (6 nodes: 10 pods) (bench-1, bench-2, ...; placed by rendezvous hashing). */
function podFolder(nodes: number): string {
    const dir = path.join(root, ".lab", "bench-pods", `pods-${nodes}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(path.join(root, "pods"))) { fs.copyFileSync(path.join(root, "pods", f), path.join(dir, f)); }
    for (let k = 1; k <= 2 * Math.max(0, nodes - 3); k++) {
        fs.writeFileSync(path.join(dir, `bench-${k}.yaml`), `apiVersion: v1\nkind: Pod\nmetadata: {name: bench-${k}}\nspec:\n  containers: [{name: nginx, image: "nginx:1.27"}]\n`);
    }
    return dir;
}

function timed(args: string[], nodes: number, pods: string, command: string = process.execPath): { seconds: number; ok: boolean; output: string } {
    const t = process.hrtime.bigint();
    const r = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, PODNET_E2E_NODES: String(nodes), PODNET_E2E_PODS: pods } });
    return { seconds: Number(process.hrtime.bigint() - t) / 1e9, ok: r.status === 0, output: r.stdout + r.stderr };
}
const cockpit = path.join(root, "build", "cockpit", "main.js");
const outputs = path.join(root, ".lab", "e2e", "outputs.json");

const manual = manualLabPath(root);

function manualRow(t: ManualTiming): string {
    return `| ${"manual-lab.sh, 3 nodes".padEnd(22)} | ${"-".padStart(9)} | ${"-".padStart(4)} | ${t.up.toFixed(1).padStart(6)} | ${t.down.toFixed(1).padStart(8)} | ${"-".padStart(10)} |${t.ok ? "" : " FAILED"}`;
}

const rows: string[] = [];
const typedRows: string[] = [];
let failed = false;

/** A verb's own time and its time as the README types it, median of 3 each (after one call that builds if a source changed). */
function asTyped(n: number, folder: string, verb: string): void {
    spawnSync(process.execPath, [path.join(root, "bin", "podnet.js"), "help"], { cwd: root, stdio: "ignore" });
    const own = [0, 1, 2].map(() => timed([cockpit, verb, "--outputs", outputs], n, folder));
    const typed = [0, 1, 2].map(() => timed(["run", "podnet", "--", verb, "--outputs", outputs], n, folder, "npm"));
    const median = (xs: { seconds: number }[]) => xs.map((x) => x.seconds).sort((a, b) => a - b)[1];
    const ok = [...own, ...typed].every((x) => x.ok);
    if (!ok) { failed = true; process.stdout.write(`bench: ${verb} failed:\n${[...own, ...typed].filter((x) => !x.ok).map((x) => x.output).join("")}\n`); }
    typedRows.push(`| ${`${verb}, ${n} nodes`.padEnd(18)} | ${median(own).toFixed(2).padStart(8)} | ${median(typed).toFixed(2).padStart(12)} | ${(median(typed) - median(own)).toFixed(2).padStart(12)} |${ok ? "" : " FAILED"}`);
}
for (const n of sizes) {
    process.stdout.write(`bench: ${n} nodes: up...`);
    const folder = podFolder(n);
    const up = timed([cli, "up"], n, folder);
    const resources = fs.existsSync(state) ? (JSON.parse(fs.readFileSync(state, "utf8")) as { created: unknown[] }).created.length : 0;
    const pods = fs.existsSync(outputs) ? (JSON.parse(fs.readFileSync(outputs, "utf8")) as { pods: unknown[] }).pods.length : 0;
    process.stdout.write(" matrix...");
    const m = timed([cockpit, "matrix", "--outputs", outputs], n, folder);
    if (up.ok) {
        process.stdout.write(" as typed...");
        asTyped(n, folder, "status");
        asTyped(n, folder, "matrix");
    }
    process.stdout.write(" down...");
    const down = timed([cli, "down"], n, folder);
    process.stdout.write(" done\n");
    if (!up.ok || !m.ok || !down.ok) {
        failed = true;
        process.stdout.write(`bench: ${n} nodes failed:\n${up.ok ? "" : up.output}${m.ok ? "" : m.output}${down.ok ? "" : down.output}\n`);
    }
    rows.push(`| ${`lab, ${n} nodes`.padEnd(22)} | ${String(resources).padStart(9)} | ${String(pods).padStart(4)} | ${up.seconds.toFixed(1).padStart(6)} | ${down.seconds.toFixed(1).padStart(8)} | ${m.seconds.toFixed(1).padStart(10)} |${up.ok && m.ok && down.ok ? "" : " FAILED"}`);
}
let baseline: ManualTiming | undefined;
if (manual) {
    process.stdout.write("bench: manual-lab.sh: up, check, down...");
    baseline = timeManualLab(manual);
    process.stdout.write(" done\n");
    rows.push(manualRow(baseline));
}

// The real CLI, when there is one: up, no-change preview, an up after editing one pod, destroy, each size beside
// manual-lab.sh at the same node count, in the same run (BENCH_REPEAT rounds, interleaved; medians).
const missing = realCliMissing(root);
const realRows: string[] = [];
const censusRows: { nodes: number; census: Census }[] = [];
if (missing) {
    realRows.push(`bench: real CLI: skipped: ${missing}`);
} else {
    const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(",").filter(Boolean).map(Number);
    const realSizes = list(process.env.BENCH_REAL_NODES, "3,10,20");
    // The same with Pulumi's PULUMI_SKIP_CHECKPOINTS (docs/performance.md): what the state file's rewrites cost.
    const skipSizes = list(process.env.BENCH_REAL_SKIP_CHECKPOINTS, "");
    const clusterSizes = list(process.env.BENCH_REAL_CLUSTER_NODES, "3");
    const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? "1"));
    const median = (xs: number[]) => { const s = xs.filter((x) => !Number.isNaN(x)).sort((p, q) => p - q); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
    const f1 = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(1));
    const ratio = (s: number, base: number) => (Number.isNaN(s) || Number.isNaN(base) || base === 0 ? "" : ` (${(s / base).toFixed(2)}x)`);
    realRows.push(`| ${"pulumi, nodes".padEnd(22)} | resources | up (s)           | by hand | preview (s) | edit (s) | destroy (s)      | by hand |`);
    realRows.push(`|${"-".repeat(24)}|----------:|-----------------:|--------:|------------:|---------:|-----------------:|--------:|`);
    const progress = (s: string) => process.stdout.write(s);
    const runs: { label: string; env: Record<string, string>; config: Record<string, unknown>; sizes: number[] }[] = [
        { label: "", env: {}, config: {}, sizes: realSizes },
        { label: ", skip checkpoints", env: { PULUMI_SKIP_CHECKPOINTS: "true" }, config: {}, sizes: skipSizes },
        // Cluster mode (a control plane, registered kubelets, Pod objects) beside docker mode's rows of the same run.
        { label: ", cluster", env: {}, config: { podRuntime: "cluster" }, sizes: clusterSizes },
    ];
    for (const run of runs) {
        for (const n of run.sizes) {
            const got: RealRow[] = [];
            const byHand: ManualTiming[] = [];
            for (let i = 0; i < repeat; i++) {
                if (manual) {
                    progress(`bench: manual-lab.sh, ${n} nodes (round ${i + 1} of ${repeat})...`);
                    byHand.push(timeManualLab(manual, n));
                    progress(" done\n");
                }
                got.push(...benchRealCli(root, [n], progress, run.env, run.label, run.config));
            }
            const ok = got.every((r) => r.ok) && byHand.every((m) => m.ok);
            for (const r of got.filter((x) => !x.ok)) { process.stdout.write(`bench: real CLI, ${r.label} nodes failed: ${r.failure}\n`); }
            if (!ok) { failed = true; }
            const m = (k: "up" | "preview" | "edit" | "destroy") => median(got.map((r) => r[k]));
            const hand = { up: median(byHand.map((t) => t.up)), down: median(byHand.map((t) => t.down)) };
            const api = got.find((r) => r.apiReady !== undefined)?.apiReady;
            realRows.push(`| ${`${n}${run.label}`.padEnd(22)} | ${String(got[0]?.resources ?? 0).padStart(9)} | ${`${f1(m("up"))}${ratio(m("up"), hand.up)}`.padStart(16)} | ` +
                `${f1(hand.up).padStart(7)} | ${f1(m("preview")).padStart(11)} | ${f1(m("edit")).padStart(8)} | ${`${f1(m("destroy"))}${ratio(m("destroy"), hand.down)}`.padStart(16)} | ` +
                `${f1(hand.down).padStart(7)} |${api !== undefined ? ` API ready ${api} s after the control plane started |` : ""}${ok ? "" : " FAILED"}`);
            const c = got.find((r) => r.census)?.census;
            if (run.label === "" && c) { censusRows.push({ nodes: n, census: c }); }
        }
    }
    if (repeat > 1) { realRows.push(`(medians of ${repeat} rounds; each round runs manual-lab.sh, then the lab, at that size)`); }
    if (!manual) { realRows.push("(no \"by hand\" columns: ../shared/manual-lab.sh is not beside this repository)"); }
}
console.log(`\n| ${"run".padEnd(22)} | resources | pods | up (s) | down (s) | matrix (s) |\n|${"-".repeat(24)}|----------:|-----:|-------:|---------:|-----------:|`);
for (const r of rows) { console.log(r); }
console.log(`\n| ${"cockpit verb".padEnd(18)} | verb (s) | as typed (s) | typed - verb |\n|${"-".repeat(20)}|---------:|-------------:|-------------:|`);
for (const r of typedRows) { console.log(r); }
console.log("(verb: `node build/cockpit/main.js VERB --outputs …`; as typed: `npm run podnet -- VERB --outputs …`; median of 3 each)");
console.log("");
for (const r of realRows) { console.log(r); }
if (censusRows.length) {
    console.log("\nWhat the lab is made of (the real stack's state after its `up`: resources by kind, how each grows with n nodes):\n");
    for (const r of censusTable(censusRows)) { console.log(r); }
}
if (!missing) {
    console.log("\nReal `pulumi` CLI (local file backend, offline): up from nothing, `preview --expect-no-changes`, `up` after editing one");
    console.log("pod, destroy; \"by hand\": manual-lab.sh's up and down at the same node count, in the same run, and the ratios to them.");
}
console.log("\nWall seconds of `e2e:up` / `e2e:down` and of the cockpit's `matrix` (every pod to every pod and to the outside");
console.log("host; each a fresh node process, TypeScript already built) on this machine's");
console.log("Docker engine. manual-lab.sh is the hand-run reference: docker CLI, sequential, one image per node, teardown by rm -f.");
process.exit(failed ? 1 : 0);
