// `npm run test:real`: the lifecycle suite under a real `pulumi` CLI, when one (with the language host and the
// plugins the npm packages ask for) is on PATH; otherwise one plain line saying it was skipped and why, exit 0.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { projectRoot } from "../../plan/load";
import { realCliMissing } from "./stack";

const root = projectRoot();

const why = realCliMissing(root);
if (why) {
    console.log(`test:real: skipped: ${why} (the real-CLI lifecycle suite needs a Pulumi CLI with the command, docker and kubernetes plugins; see docs/testing.md)`);
    process.exit(0);
}
console.log(`test:real: ${spawnSync("pulumi", ["version"], { encoding: "utf8" }).stdout.trim()} found; running the lifecycle suite, the interrupted updates, then the README's set-up command`);
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...["lifecycle.real.js", "interrupt.real.js", "readme.real.js"].map((f) => path.join(__dirname, f))],
    { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
