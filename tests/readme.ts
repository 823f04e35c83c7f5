// The README's commands as a learner types them: the two blocks under "Set-up", split into their `&&` steps. Pure;
// the unit test reads them statically, the e2e suite runs them on a fresh clone (tests/e2e/readme.e2e.ts).

export interface ReadmeCommands { readonly setup: string; readonly test: string; }

/** The first two ```sh blocks after the "## Set-up" heading: bring the lab up, and run the tests. */
export function readmeCommands(readme: string): ReadmeCommands {
    const at = readme.search(/^## Set-up\b/m);
    if (at < 0) { throw new Error("the README has no '## Set-up' section"); }
    const next = readme.slice(at + 1).search(/^## /m);
    const section = readme.slice(at, next < 0 ? undefined : at + 1 + next);
    const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)\n```/gm)].map((m) => m[1].trim());
    if (blocks.length < 2) { throw new Error(`the README's Set-up section has ${blocks.length} sh block(s), not 2 (set-up, tests)`); }
    return { setup: blocks[0], test: blocks[1] };
}

/** A one-line command's `&&` steps (the README's commands quote no `&&`). */
export function steps(command: string): string[] {
    return command.split(/\s*&&\s*/).map((s) => s.trim()).filter(Boolean);
}

/** The steps before the first `pulumi` call: what runs without a Pulumi CLI. */
export function beforePulumi(command: string): string[] {
    const all = steps(command);
    const i = all.findIndex((s) => /^pulumi\b/.test(s));
    return i < 0 ? all : all.slice(0, i);
}
