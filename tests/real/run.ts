// `npm run test:real`: the lifecycle suite under a real `pulumi` CLI, when one (with the language host and the
// plugins the npm packages ask for) is on PATH; otherwise one plain line saying it was skipped and why, exit 0.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { projectRoot } from "../../plan/load";
import { requiredPlugins } from "./stack";

const root = projectRoot();

/** Why the suite cannot run here, or undefined when it can. */
function missing(): string | undefined {
    const version = spawnSync("pulumi", ["version"], { encoding: "utf8" });
    if (version.error || version.status !== 0) { return "no `pulumi` CLI on PATH"; }
    if (spawnSync("sh", ["-c", "command -v pulumi-language-nodejs"]).status !== 0) { return "no `pulumi-language-nodejs` language host on PATH"; }
    const ls = spawnSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    const have = ls.status === 0 ? JSON.parse(ls.stdout || "[]") as { name: string; kind: string; version: string }[] : [];
    const lacking = requiredPlugins(root).filter((p) => !have.some((h) => h.kind === "resource" && h.name === p.name && h.version === p.version));
    if (lacking.length) { return `the CLI lacks the resource plugin(s) ${lacking.map((p) => `${p.name} ${p.version}`).join(", ")}`; }
    if (spawnSync("docker", ["info"]).status !== 0) { return "no Docker engine answers"; }
    return undefined;
}

const why = missing();
if (why) {
    console.log(`test:real: skipped: ${why} (the real-CLI lifecycle suite needs a Pulumi CLI with the command, docker and kubernetes plugins; see README)`);
    process.exit(0);
}
console.log(`test:real: ${spawnSync("pulumi", ["version"], { encoding: "utf8" }).stdout.trim()} found; running the lifecycle suite`);
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", path.join(__dirname, "lifecycle.real.js")], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
