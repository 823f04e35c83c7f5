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
