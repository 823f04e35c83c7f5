// What a lab is made of, from its state: resources by kind (a resource's name with its node and pod names taken out,
// and its type), the `docker exec`s its commands run, and the state's size. `npm run bench` prints it at each size,
// and how each kind grows with the node count.

/** One resource of a stack's state (`pulumi stack export`'s deployment.resources). */
export interface StateResource { readonly urn: string; readonly type: string; readonly inputs?: Readonly<Record<string, unknown>>; }

/** The name a URN ends with. */
export const urnName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** A resource's kind: its name with node names as <node> and pod names as <pod>, and its type's last part. */
export function resourceKind(r: StateResource, pods: readonly string[]): string {
    let name = urnName(r.urn).replace(/\bnode\d+\b/g, "<node>");
    // Longest first: a pod named "web-1" must not take the start of "web-10-pause".
    for (const p of [...pods].sort((a, b) => b.length - a.length)) {
        if (name === p || name.startsWith(`${p}-`)) { name = `<pod>${name.slice(p.length)}`; break; }
    }
    const type = r.type.split(":").pop() ?? r.type;
    return `${name} (${type})`;
}

export interface Census {
    readonly resources: number;
    readonly kinds: ReadonlyMap<string, number>;
    /** `docker exec`s in the create commands of the state's Commands: what one `up` from nothing runs. */
    readonly dockerExecs: number;
    readonly stateBytes: number;
}

/** The stack itself is not a resource of the lab's (the engine's own), nor are the default providers counted apart. */
export function census(resources: readonly StateResource[], pods: readonly string[], stateBytes: number): Census {
    const kinds = new Map<string, number>();
    let dockerExecs = 0;
    const counted = resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    for (const r of counted) {
        const k = resourceKind(r, pods);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        const create = r.inputs?.create;
        if (typeof create === "string") { dockerExecs += (create.match(/\bdocker exec\b/g) ?? []).length; }
    }
    return { resources: counted.length, kinds, dockerExecs, stateBytes };
}

/** How a kind's count grows with the node count n: one, per node (n), per node pair (n(n-1)), per pod, or as measured. */
export function growth(kind: string, counts: readonly { nodes: number; count: number }[]): string {
    if (kind.includes("<pod>")) { return "per pod"; }
    // One size shows a count, not how it grows.
    if (counts.length < 2) { return counts[0]?.count === 1 ? "one" : "- (one size: run two or more to see)"; }
    const all = (f: (n: number) => number) => counts.every((c) => f(c.nodes) > 0 && c.count % f(c.nodes) === 0 &&
        c.count / f(c.nodes) === counts[0].count / f(counts[0].nodes));
    if (counts.every((c) => c.count === counts[0].count)) { return counts[0].count === 1 ? "one" : `${counts[0].count}`; }
    if (all((n) => n)) { const k = counts[0].count / counts[0].nodes; return k === 1 ? "per node (n)" : `${k} per node (${k}n)`; }
    if (all((n) => n * (n - 1))) { return "per node pair (n(n-1))"; }
    return "other";
}

/** The census at each size as a Markdown table: one row per kind, a column per size, and its growth. */
export function censusTable(sizes: readonly { nodes: number; census: Census }[]): string[] {
    const kinds = [...new Set(sizes.flatMap((s) => [...s.census.kinds.keys()]))].sort();
    const head = `| ${"resource kind".padEnd(44)} | ${sizes.map((s) => `${s.nodes} nodes`.padStart(9)).join(" | ")} | grows |`;
    const rule = `|${"-".repeat(46)}|${sizes.map(() => "----------:").join("|")}|-------|`;
    const rows = kinds.map((k) => {
        const counts = sizes.map((s) => ({ nodes: s.nodes, count: s.census.kinds.get(k) ?? 0 }));
        return `| ${k.padEnd(44)} | ${counts.map((c) => String(c.count).padStart(9)).join(" | ")} | ${growth(k, counts)} |`;
    });
    const total = (label: string, f: (c: Census) => string) => `| ${label.padEnd(44)} | ${sizes.map((s) => f(s.census).padStart(9)).join(" | ")} | |`;
    return [head, rule, ...rows,
        total("**all resources**", (c) => String(c.resources)),
        total("`docker exec`s in the create commands", (c) => String(c.dockerExecs)),
        total("state (KB), per resource (bytes)", (c) => `${Math.round(c.stateBytes / 1024)}, ${Math.round(c.stateBytes / Math.max(1, c.resources))}`)];
}
