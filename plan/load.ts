// Reading the project's files (pod manifests, node scripts) and producing the plan, or one refusal listing every problem.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CNI_BIN_DIR } from "./cni";
import { nodeInit } from "./commands";
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

/**
 * The files every node gets: node/bin/* (the lab's node scripts) in /usr/local/bin, node/cni/* (the lab's CNI
 * plugin) in /opt/cni/bin, where a node keeps its CNI plugins.
 */
export function readNodeScripts(root: string): NodeScript[] {
    return ([["bin", "/usr/local/bin"], ["cni", CNI_BIN_DIR]] as const).flatMap(([folder, into]) => {
        const dir = path.join(root, "node", folder);
        return fs.readdirSync(dir).sort().map((f) => ({ file: `${into}/${f}`, content: fs.readFileSync(path.join(dir, f), "utf8") }));
    });
}

/** Where the node init is written on the host, relative to the project folder (where Pulumi runs the providers). */
export const NODE_INIT_SOURCE = ".lab/podnet-node-init";

/** The node init as the node containers upload it: by reference, so the state holds its path and hash, not its text. */
export interface NodeInitUpload {
    /** Path inside the node. */
    readonly file: string;
    /** Path on the host, relative to the project folder. */
    readonly source: string;
    /** sha256 of the content: a change of any node script changes it, and that replaces the nodes. */
    readonly sourceHash: string;
}

/**
 * Writes the node init (plan/commands.ts nodeInit) to NODE_INIT_SOURCE, for the docker provider to read when it
 * creates a node. By reference rather than as `content`, because the engine stores every input and output in the
 * state and rewrites the whole state after each step: inline, the init was about 27 KB per node, twice (inputs
 * and outputs), half of a 10-node lab's state. Rewritten only when its content changes, through a rename, so two
 * stacks of the project running at once never see a half-written file.
 */
export function writeNodeInit(root: string, scripts: readonly NodeScript[]): NodeInitUpload {
    const init = nodeInit(scripts);
    const file = path.join(root, NODE_INIT_SOURCE);
    try {
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        if (current !== init.content) {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            const tmp = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, init.content, { mode: 0o755 });
            fs.renameSync(tmp, file);
        }
    } catch (e) {
        throw new Error(`podnet-lab: cannot write the node init to ${file}, which every node container uploads: ${(e as Error).message}`);
    }
    return { file: init.file, source: NODE_INIT_SOURCE, sourceHash: createHash("sha256").update(init.content).digest("hex") };
}

export interface LabInputs { readonly config: LabConfig; readonly plan: LabPlan; readonly scripts: readonly NodeScript[]; readonly root: string; }

/** Raw config + the project's files -> the plan. Throws LabInputError listing every problem; declares nothing. */
export function loadLab(raw: Readonly<Record<string, string | undefined>>, stack: string, root: string = projectRoot()): LabInputs {
    const { config, problems } = parseLabConfig(raw);
    const files = readManifests(root, config.pods, problems);
    const parsed = parsePodManifests(files);
    const all = [...problems.all, ...parsed.problems.all];
    if (all.length === 0) {
        const { plan, problems: planProblems } = planLab(config, parsed.pods, stack, parsed.services);
        all.push(...planProblems.all);
        if (all.length === 0) { return { config, plan, scripts: readNodeScripts(root), root }; }
    }
    throw new LabInputError(all);
}

