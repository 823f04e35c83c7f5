// The README's set-up command, whole and typed as written, on a fresh clone of this commit, under a real `pulumi`
// CLI: its `pulumi up` brings the README's stack (dev) up. No registry is reachable here, so the clone's dev stack
// gets the e2e stack's offline config (Pulumi.e2e.yaml's values); everything else is the README's. Then the claims,
// `pulumi destroy`, and nothing labelled with the stack left. Run by tests/real/run.ts after the lifecycle suite.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { LABEL_STACK } from "../../plan/plan";
import { docker, runClaims } from "../lab-probe";
import { readmeCommands } from "../readme";

const root = projectRoot();
const log = (line: string) => process.stdout.write(`# readme (real CLI): ${line}\n`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-readme-real-"));
const clone = path.join(dir, "podnet-lab");
const { setup } = readmeCommands(fs.readFileSync(path.join(root, "README.md"), "utf8"));
// Non-interactive: `pulumi up` as typed asks to confirm; no plugin is fetched from the internet.
const env: NodeJS.ProcessEnv = {
    ...process.env, PULUMI_SKIP_CONFIRMATIONS: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PULUMI_SKIP_UPDATE_CHECK: "true",
    npm_config_audit: "false", npm_config_fund: "false",
};
delete env.NODE_TEST_CONTEXT;
delete env.PULUMI_BACKEND_URL;
const sh = (script: string) => {
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", script], { cwd: clone, env, encoding: "utf8", timeout: 900_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
};
/** The README's exports, for the commands after its set-up (the same shell would still have them). */
const readmeExports = () => (/(export PULUMI_BACKEND_URL=\S+ PULUMI_CONFIG_PASSPHRASE=\S+)/.exec(setup) ?? [""])[0];
const left = () => ["ps -a", "network ls", "volume ls"].flatMap((what) =>
    docker(...what.split(" "), "-q", "--filter", `label=${LABEL_STACK}=dev`).split("\n").filter(Boolean));

describe("the README's set-up command, whole, on a fresh clone", () => {
    it("clones this commit; the dev stack gets the e2e stack's offline values", () => {
        const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
        assert.equal(spawnSync("git", ["clone", "-q", "--no-checkout", root, clone]).status, 0);
        assert.equal(spawnSync("git", ["checkout", "-q", head], { cwd: clone }).status, 0);
        assert.deepEqual(left(), [], "no dev lab is up on this engine before the test");
        const e2e = fs.readFileSync(path.join(root, "Pulumi.e2e.yaml"), "utf8");
        fs.writeFileSync(path.join(clone, "Pulumi.dev.yaml"), `# readme.real.ts: the e2e stack's offline values, as no registry is reachable here\n${e2e}`);
        log(`cloned ${head.slice(0, 12)} into ${clone}`);
    });

    it("runs it as written: npm ci, the backend folder, stack dev, pulumi up; the claims hold", () => {
        log(`set-up: ${setup}`);
        const r = sh(setup);
        log(`exit ${r.status} in ${r.seconds.toFixed(1)}s; ${(/^Resources:\n\s+\+ (\d+ created)/m.exec(r.output) ?? ["", "no summary"])[1]}`);
        assert.equal(r.status, 0, r.output.slice(-4000));
        const out = sh(`${readmeExports()} && pulumi stack output --json`);
        assert.equal(out.status, 0, out.output);
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, out.output);
        const c = runClaims(file, "S10 is checked by the lifecycle suite", "claims.e2e.js", clone);
        log(`claims: ${c.summary}`);
        assert.ok(c.ok, c.failures);
    });

    after(() => {
        const d = sh(`${readmeExports()} && pulumi destroy --yes && pulumi stack rm --yes dev`);
        log(`pulumi destroy and stack rm: exit ${d.status} in ${d.seconds.toFixed(1)}s`);
        const rest = left();
        if (rest.length) { spawnSync("sh", ["-c", `docker rm -f -v ${rest.join(" ")} 2>/dev/null; docker network rm ${rest.join(" ")} 2>/dev/null`]); }
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(d.status, 0, d.output.slice(-3000));
        assert.deepEqual(rest, [], "left with the dev stack's label");
    });
});
