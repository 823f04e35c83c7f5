// The e2e engine stand-in must refuse what it does not implement, so it can never skip what a real provider does.
import * as assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as fs from "node:fs";
import { checkOptions, EngineStandIn } from "./e2e/engine";
import { destroyState, renderedPath, runShell, StateEntry } from "./e2e/state";
import { LifecycleOptions } from "./monitor";

const engine = () => new EngineStandIn(path.join(os.tmpdir(), `standin-${process.pid}.json`), "t", () => undefined);

describe("engine stand-in refusals (no Docker needed)", () => {
    it("throws on a resource type it does not implement, naming it", async () => {
        await assert.rejects(engine().newResource({ type: "docker:index/service:Service", name: "svc", inputs: {} }),
            /resource type docker:index\/service:Service \(svc\) is not implemented/);
    });

    it("throws on docker.Image (building), pointing at a prebuilt node image", async () => {
        await assert.rejects(engine().newResource({ type: "docker:index/image:Image", name: "node-image", inputs: { imageName: "x" } }),
            /set podnet-lab:nodeImage to a prebuilt image/);
    });

    it("throws on an input it does not implement, naming it", async () => {
        await assert.rejects(engine().newResource({ type: "docker:index/container:Container", name: "c", inputs: { image: "x", gpus: "all" } }),
            /docker:index\/container:Container c: input\(s\) gpus not implemented/);
        await assert.rejects(engine().newResource({ type: "command:local:Command", name: "c", inputs: { create: "true", dir: "/tmp" } }),
            /input\(s\) dir not implemented/);
    });

    it("runs commands like pulumi-command: /bin/sh -c, environment, trailing newline trimmed, failure reported", async () => {
        assert.deepEqual(await runShell("echo \"$GREETING\"; echo err >&2", { GREETING: "hi there" }), { stdout: "hi there", stderr: "err" });
        assert.deepEqual(await runShell("tr a-z A-Z", {}, "piped in\n"), { stdout: "PIPED IN", stderr: "" }, "stdin reaches the command");
        await assert.rejects(runShell("echo nope >&2; exit 3", {}), /exited with 3[\s\S]*nope/);
    });

    it("renders manifests where the real render-only provider writes them", () => {
        assert.equal(renderedPath("/r", { apiVersion: "v1", kind: "Pod", metadata: { name: "web-1" } }), "/r/1-manifest/v1-pod-default-web-1.yaml");
    });

    it("refuses resource options it does not implement; accepts deletedWith and the replacement-only ones", () => {
        const none: LifecycleOptions = { deleteBeforeReplace: false, replaceOnChanges: [], deletedWith: "", retainOnDelete: false, protect: false, ignoreChanges: [], beforeCreate: [] };
        assert.doesNotThrow(() => checkOptions("x", { ...none, deleteBeforeReplace: true, replaceOnChanges: ["*"], deletedWith: "node1-container" }));
        assert.doesNotThrow(() => checkOptions("x", { ...none, beforeCreate: ["podnet-lab-leftover-container"] }), "the leftover hook: nothing is left over on the stand-in's clean slate");
        assert.throws(() => checkOptions("x", { ...none, retainOnDelete: true }), /x: resource option\(s\) retainOnDelete not implemented/);
        assert.throws(() => checkOptions("x", { ...none, protect: true, ignoreChanges: ["a"] }), /x: resource option\(s\) protect not implemented/);
        assert.doesNotThrow(() => checkOptions("x", { ...none, ignoreChanges: ["uploads"] }), "ignoreChanges shapes an update's diff only; the stand-in creates");
    });

    it("destroy honours deletedWith: what goes with a resource destroyed in the same run is not deleted on its own", async () => {
        const marks = path.join(os.tmpdir(), `standin-marks-${process.pid}`);
        fs.rmSync(marks, { force: true });
        const cmd = (name: string, deletedWith = "", dependsOn: string[] = []): StateEntry => ({
            type: "command:local:Command", name, id: name, provider: "", outputs: {}, dependsOn, deletedWith,
            inputs: { create: "true", delete: `echo ${name} >> ${marks}` },
        });
        const state = { stack: "t", renderDirs: {}, created: [cmd("node"), cmd("inside", "node", ["node"]), cmd("other", "elsewhere")] };
        await destroyState(state, () => undefined);
        assert.deepEqual(fs.readFileSync(marks, "utf8").trim().split("\n").sort(), ["node", "other"]);
        fs.rmSync(marks, { force: true });
        await destroyState(state, () => undefined, (e) => e.name === "inside");
        assert.equal(fs.readFileSync(marks, "utf8").trim(), "inside", "destroyed alone, it runs its own delete");
        fs.rmSync(marks, { force: true });
    });
});
