// `npm run bench`'s rows for a real `pulumi` CLI: up, no-change preview, an up after editing one pod, destroy,
// for each lab size, on a stack of its own ("bench", local file backend) with the e2e stack's offline images.
import * as fs from "node:fs";
import * as path from "node:path";
import { changeSummary, RealStack } from "../tests/real/stack";
import { Census, census, StateResource } from "./census";

export interface RealRow {
    label: string; nodes: number; resources: number; up: number; preview: number; edit: number; destroy: number; ok: boolean; failure?: string;
    /** Cluster mode: seconds from the control plane's start until its API server was ready (its ready step says so). */
    apiReady?: number;
    /** The lab's resources by kind, its commands' `docker exec`s and its state's size, after the up. */
    census?: Census;
}

const EDIT = (env: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: web-3}\nspec:\n  nodeName: node3\n  containers:\n    - name: nginx\n      image: nginx:1.27\n      env: [{name: BENCH, value: "${env}"}]\n`;

/**
 * `env`: more environment for every pulumi command (e.g. PULUMI_SKIP_CHECKPOINTS=true); `note` labels the rows;
 * `config`: more of the stack's config (e.g. podRuntime cluster).
 */
export function benchRealCli(root: string, sizes: readonly number[], progress: (s: string) => void, env: Readonly<Record<string, string>> = {}, note = "",
    config: Readonly<Record<string, unknown>> = {}): RealRow[] {
    const rows: RealRow[] = [];
    const pods = fs.readdirSync(path.join(root, "pods")).map((f) => path.join(root, "pods", f));
    for (const n of sizes) {
        const stack = new RealStack(root, "bench", env);
        const row: RealRow = { label: `${n}${note}`, nodes: n, resources: 0, up: NaN, preview: NaN, edit: NaN, destroy: NaN, ok: false };
        try {
            stack.init(pods);
            stack.setConfig({ nodeCount: n, ...config });
            progress(`bench: real CLI, ${n} nodes${note}: up...`);
            const up = stack.up();
            if (up.status !== 0) { throw new Error(`up failed:\n${up.output.slice(-2000)}`); }
            row.up = up.seconds;
            row.resources = changeSummary(up.output).created ?? 0;
            const state = exported(stack);
            row.apiReady = apiReadySeconds(state);
            row.census = state && census(state.resources, fs.readdirSync(stack.podsDir).map((f) => f.replace(/\.ya?ml$/, "")), state.bytes);
            progress(" preview...");
            const preview = stack.preview(true);
            if (preview.status !== 0) { throw new Error(`preview --expect-no-changes failed:\n${preview.output.slice(-2000)}`); }
            row.preview = preview.seconds;
            progress(" edit...");
            stack.writePod("web-3", EDIT("1"));
            const edit = stack.up();
            if (edit.status !== 0) { throw new Error(`up after an edit failed:\n${edit.output.slice(-2000)}`); }
            row.edit = edit.seconds;
            progress(" destroy...");
            const destroy = stack.destroy();
            if (destroy.status !== 0) { throw new Error(`destroy failed:\n${destroy.output.slice(-2000)}`); }
            row.destroy = destroy.seconds;
            row.ok = true;
        } catch (e) {
            row.failure = (e as Error).message;
            stack.destroy();
        } finally {
            stack.remove(!row.ok);
            progress(" done\n");
        }
        rows.push(row);
    }
    return rows;
}

interface Exported { resources: (StateResource & { outputs?: { stdout?: string } })[]; bytes: number; }

/** The stack's state (`pulumi stack export`): its resources and its size in bytes. */
function exported(stack: RealStack): Exported | undefined {
    const r = stack.run(["stack", "export"]);
    if (r.status !== 0) { return undefined; }
    const text = r.output.slice(r.output.indexOf("{"));
    const state = JSON.parse(text) as { deployment: { resources?: Exported["resources"] } };
    return { resources: state.deployment.resources ?? [], bytes: Buffer.byteLength(text) };
}

/** Cluster mode: what the control plane's ready step printed ("..., 9s after the control plane started"), from the state. */
function apiReadySeconds(state: Exported | undefined): number | undefined {
    const ready = state?.resources.find((x) => x.urn.endsWith("::control-plane-ready"));
    const m = /, (\d+)s after the control plane started/.exec(ready?.outputs?.stdout ?? "");
    return m ? Number(m[1]) : undefined;
}
