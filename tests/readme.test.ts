// The README's set-up and test commands, read as written: the steps before the first `pulumi` call make the folder
// the file backend names (Pulumi does not create it), and every `npm run` names a script of package.json.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../plan/load";
import { beforePulumi, readmeCommands, steps } from "./readme";

const root = projectRoot();
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

describe("README: the set-up and test commands", () => {
    const { setup, test } = readmeCommands(readme);

    it("set-up: the backend folder exists before the first pulumi call", () => {
        const before = beforePulumi(setup);
        assert.ok(before.length < steps(setup).length, "the set-up calls pulumi");
        const url = /PULUMI_BACKEND_URL="file:\/\/\$PWD\/([^"]+)"/.exec(setup)?.[1];
        assert.ok(url, `the set-up sets a file backend under $PWD: ${setup}`);
        assert.ok(before.some((s) => new RegExp(`^mkdir -p (\\S+ )*${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( |$)`).test(s)), `no 'mkdir -p ${url}' before pulumi: ${setup}`);
    });

    it("every npm run names a script of package.json; npm ci comes first", () => {
        const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
        for (const cmd of [setup, test]) {
            assert.equal(steps(cmd)[0], "npm ci", cmd);
            for (const s of steps(cmd)) {
                const run = /^npm run (\S+)/.exec(s)?.[1];
                if (run) { assert.ok(scripts.includes(run), `README runs 'npm run ${run}', package.json has no such script`); }
            }
        }
    });

    it("the extraction on fixed text: the two blocks, steps, and what runs before pulumi", () => {
        const text = "# x\n## Set-up: two\n\n```sh\na && b && pulumi up && c\n```\n\n```sh\nnpm ci && npm test\n```\n## Next\n```sh\nno\n```\n";
        assert.deepEqual(readmeCommands(text), { setup: "a && b && pulumi up && c", test: "npm ci && npm test" });
        assert.deepEqual(beforePulumi("a && b && pulumi up && c"), ["a", "b"]);
        assert.deepEqual(beforePulumi("npm ci && npm test"), ["npm ci", "npm test"]);
        assert.throws(() => readmeCommands("## Set-up\n```sh\none\n```\n## Next\n```sh\ntwo\n```"), /1 sh block/);
    });
});
