// The hand-run reference, ../shared/manual-lab.sh (sequential docker CLI, N nodes, one image per node, teardown
// by rm -f), timed on this project's offline images. Used by `npm run bench` and the real-CLI suite's ratio.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface ManualTiming { readonly up: number; readonly down: number; readonly ok: boolean; }

export function manualLabPath(root: string): string | undefined {
    const p = path.resolve(root, "..", "shared", "manual-lab.sh");
    return fs.existsSync(p) ? p : undefined;
}

/** Runs manual-lab.sh up, check and down with `nodes` nodes; returns the wall seconds of up and down. */
export function timeManualLab(script: string, nodes = 3): ManualTiming {
    const env = { ...process.env, NODE_IMAGE: "podnet-e2e/node:test", POD_IMAGE: "podnet-e2e/client:test", N: String(nodes) };
    const run = (verb: string) => {
        const t = process.hrtime.bigint();
        const r = spawnSync("bash", [script, verb], { encoding: "utf8", env });
        return { seconds: Number(process.hrtime.bigint() - t) / 1e9, ok: r.status === 0 };
    };
    const up = run("up");
    // The script checks right after starting its httpd, which may not listen yet: a few tries (not timed).
    let check = false;
    for (let i = 0; up.ok && !check && i < 5; i++) {
        if (i) { spawnSync("sleep", ["1"]); }
        check = run("check").ok;
    }
    const down = run("down");
    return { up: up.seconds, down: down.seconds, ok: up.ok && check && down.ok };
}
