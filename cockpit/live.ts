// The lab as the cockpit sees it: its stack outputs, and commands run on its nodes with `docker exec`.
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { AnyLabOutputs } from "../plan/outputs";

export class CockpitError extends Error { }

/** `--outputs FILE`, else `pulumi stack output --json` of the selected stack (or `--stack NAME`). */
export function loadOutputs(file?: string, stack?: string): AnyLabOutputs {
    let text: string;
    if (file) {
        if (!fs.existsSync(file)) { throw new CockpitError(`--outputs ${file}: no such file (the e2e run writes .lab/e2e/outputs.json)`); }
        text = fs.readFileSync(file, "utf8");
    } else {
        try {
            text = execFileSync("pulumi", ["stack", "output", "--json", ...(stack ? ["--stack", stack] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
            throw new CockpitError(`could not read the stack's outputs with 'pulumi stack output --json' (${String((e as Error).message).split("\n")[0]}); pass --outputs FILE`);
        }
    }
    const out: AnyLabOutputs = JSON.parse(text) as AnyLabOutputs;
    delete (out as { kubeconfig?: string }).kubeconfig;
    if (!Array.isArray(out.nodes) || !Array.isArray(out.pods)) { throw new CockpitError("these outputs are not a podnet-lab stack's (no nodes or pods)"); }
    // The cockpit never needs the admin kubeconfig (a secret, in outputs written with --show-secrets): it is dropped
    // here, so that no verb prints it and `serve` never sends it to a page.
    return out;
}

/** Runs a shell script on a node; resolves with its stdout (the script decides what counts as failure). */
export function onNode(container: string, script: string, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("docker", ["exec", container, "sh", "-c", script], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err && !stdout) { reject(new CockpitError(`${container}: ${String(stderr || err.message).trim().split("\n")[0]}`)); } else { resolve(stdout); }
        });
    });
}

export function hostDocker(...args: string[]): string {
    try { return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim(); } catch { return ""; }
}

/** Single-quotes a word for sh. */
export const q = (w: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
