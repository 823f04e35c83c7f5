// The README's set-up and test commands, typed as written on a fresh clone of this commit, with no Pulumi CLI:
// the set-up up to its first `pulumi` call (which must leave the file backend's folder in place), and the test
// command up to `npm run test:e2e` (the run this suite is part of). A `pulumi` on PATH that fails if called, and records it.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../plan/load";
import { beforePulumi, readmeCommands, steps } from "../readme";

const root = projectRoot();
const log = (line: string) => process.stdout.write(`# readme: ${line}\n`);

describe("README commands on a fresh clone", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-readme-"));
    const clone = path.join(dir, "podnet-lab");
    const shims = path.join(dir, "shims");
    const called = path.join(dir, "pulumi-was-called");
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
    const { setup, test } = readmeCommands(fs.readFileSync(path.join(root, "README.md"), "utf8"));
    // Without NODE_TEST_CONTEXT, or the clone's `node --test` would see itself inside this test and run nothing.
    const parent: NodeJS.ProcessEnv = { ...process.env };
    delete parent.NODE_TEST_CONTEXT;
    const env = { ...parent, PATH: `${shims}:${process.env.PATH ?? ""}`, PULUMI_BACKEND_URL: "", npm_config_audit: "false", npm_config_fund: "false" };
    const sh = (script: string) => {
        const t0 = Date.now();
        const r = spawnSync("bash", ["-c", script], { cwd: clone, env, encoding: "utf8", timeout: 600_000 });
        return { status: r.status, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
    };

    it(`clones ${head.slice(0, 12)} and puts a failing pulumi first on PATH`, () => {
        assert.equal(spawnSync("git", ["clone", "-q", "--no-checkout", root, clone]).status, 0);
        assert.equal(spawnSync("git", ["checkout", "-q", head], { cwd: clone }).status, 0);
        assert.ok(!fs.existsSync(path.join(clone, ".lab")), "a fresh clone has no .lab/");
        fs.mkdirSync(shims);
        fs.writeFileSync(path.join(shims, "pulumi"), `#!/bin/sh\necho "$@" >> ${called}\necho "pulumi: not on this machine (readme.e2e)" >&2\nexit 127\n`, { mode: 0o755 });
    });

    it("set-up, up to its first pulumi call: the file backend's folder exists", () => {
        const run = beforePulumi(setup);
        log(`set-up as typed, ${run.length} of ${steps(setup).length} steps: ${run.join(" && ")}`);
        const r = sh(`set -e; ${run.join(" && ")} && d="\${PULUMI_BACKEND_URL#file://}" && test -d "$d" && echo "backend folder: $d"`);
        log(`exit ${r.status} in ${r.seconds.toFixed(1)}s; ${r.output.trim().split("\n").pop()}`);
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, new RegExp(`backend folder: ${clone}/\\.lab/pulumi`));
    });

    it("tests, up to npm run test:e2e: npm ci, npm test pass", () => {
        const all = steps(test);
        const upTo = all.findIndex((s) => s === "npm run test:e2e");
        assert.ok(upTo > 0, `the test command runs npm run test:e2e: ${test}`);
        const run = all.slice(0, upTo);
        log(`tests as typed, ${run.length} of ${all.length} steps: ${run.join(" && ")}`);
        const r = sh(run.join(" && "));
        log(`exit ${r.status} in ${r.seconds.toFixed(1)}s; ${(/^# pass \d+$/m.exec(r.output) ?? ["no summary"])[0]}`);
        assert.equal(r.status, 0, r.output.slice(-4000));
        assert.match(r.output, /^# fail 0$/m);
        // @pulumi/command's and @pulumi/kubernetes' npm install scripts try `pulumi plugin install` when a pulumi is on
        // PATH and go on when it fails, as on a machine without a CLI; any other call would be the README's own.
        const calls = fs.existsSync(called) ? fs.readFileSync(called, "utf8").split("\n").filter(Boolean) : [];
        assert.deepEqual(calls.filter((c) => !/^plugin install resource \S+ \S+$/.test(c)), [], "pulumi was called by the README's steps");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
