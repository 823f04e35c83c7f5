// Reading the project's files (pod manifests, node scripts) and producing the plan, or one refusal listing every problem.
import * as fs from "fs";
import * as path from "path";
import { LabConfig, parseLabConfig } from "./config";
import { LabInputError, Problems } from "./errors";
import { LabPlan, planLab } from "./plan";
import { ManifestFile, parsePodManifests } from "./pods";

/** The folder holding Pulumi.yaml, found upward from this file (works from sources and from build/). */
export function projectRoot(from: string = __dirname): string {
    let dir = from;
    while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        const up = path.dirname(dir);
        if (up === dir) { throw new Error(`podnet-lab: no Pulumi.yaml above ${from}`); }
        dir = up;
    }
    return dir;
}

/** Manifest files named by config `pods` (files, or folders of *.yaml / *.yml), in a stable order. */
export function readManifests(root: string, entries: readonly string[], problems: Problems): ManifestFile[] {
    const files: ManifestFile[] = [];
    for (const entry of entries) {
        const abs = path.resolve(root, entry);
        if (!fs.existsSync(abs)) {
            problems.add(`config podnet-lab:pods names '${entry}', which does not exist under ${root}; give manifest files or folders`);
            continue;
        }
        const paths = fs.statSync(abs).isDirectory()
            ? fs.readdirSync(abs).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(abs, f))
            : [abs];
        if (paths.length === 0) { problems.add(`config podnet-lab:pods names folder '${entry}', which holds no *.yaml manifest`); }
        for (const p of paths) { files.push({ path: path.relative(root, p), text: fs.readFileSync(p, "utf8") }); }
    }
    return files;
}

export interface NodeScript { readonly file: string; readonly content: string; }

/** The scripts every node gets in /usr/local/bin (node/bin/* of this repository). */
export function readNodeScripts(root: string): NodeScript[] {
    const dir = path.join(root, "node", "bin");
    return fs.readdirSync(dir).sort().map((f) => ({ file: `/usr/local/bin/${f}`, content: fs.readFileSync(path.join(dir, f), "utf8") }));
}

export interface LabInputs { readonly config: LabConfig; readonly plan: LabPlan; readonly scripts: readonly NodeScript[]; readonly root: string; }

/** Raw config + the project's files -> the plan. Throws LabInputError listing every problem; declares nothing. */
export function loadLab(raw: Readonly<Record<string, string | undefined>>, stack: string, root: string = projectRoot()): LabInputs {
    const { config, problems } = parseLabConfig(raw);
    const files = readManifests(root, config.pods, problems);
    const parsed = parsePodManifests(files);
    const all = [...problems.all, ...parsed.problems.all];
    if (all.length === 0) {
        const { plan, problems: planProblems } = planLab(config, parsed.pods, stack);
        all.push(...planProblems.all);
        if (all.length === 0) { return { config, plan, scripts: readNodeScripts(root), root }; }
    }
    throw new LabInputError(all);
}

