/** Bad input, refused before any resource is declared. Each problem names the field, the value and what is valid. */
export class LabInputError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(
            `podnet-lab refused its input (nothing was created):\n` +
            problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "LabInputError";
    }
}

/** Collects problems so one run reports all of them, not just the first. */
export class Problems {
    private readonly list: string[] = [];
    add(problem: string): void { this.list.push(problem); }
    get count(): number { return this.list.length; }
    get all(): readonly string[] { return this.list; }
    throwIfAny(): void { if (this.list.length) { throw new LabInputError(this.list); } }
}

/**
 * The `default` of a `switch` that handles every member of a union: `assertNever(x)` compiles only while no member is
 * left unhandled (adding a pod runtime, say, fails to compile at each switch that forgets it).
 */
export function assertNever(x: never): never {
    throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
