// bin/podnet.js, the cockpit's launcher: it rebuilds only when a source named by tsconfig.json is newer than the last
// good build. On a temporary project with fixed mtimes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../plan/load";

const launcher = require(path.join(projectRoot(), "bin", "podnet.js")) as {
    sources(root: string): string[]; staleBecause(root: string): string | undefined; STAMP: string;
};

describe("bin/podnet.js: build only when a source changed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-launcher-"));
    const file = (rel: string, at: number) => {
        const p = path.join(dir, rel);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, "");
        fs.utimesSync(p, at, at);
    };
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ include: ["index.ts", "cockpit/**/*.ts"] }));
    fs.utimesSync(path.join(dir, "tsconfig.json"), 1000, 1000);
    file("index.ts", 1000);
    file("cockpit/main.ts", 1000);
    file("cockpit/web/deep/x.ts", 1000);
    file("cockpit/web/page.js", 5000);
    file("other/y.ts", 5000);

    it("names the files tsconfig's include names: plain files and DIR/**/*.ts folders, nothing else", () => {
        assert.deepEqual(launcher.sources(dir).map((f) => path.relative(dir, f)).sort(),
            ["cockpit/main.ts", "cockpit/web/deep/x.ts", "index.ts", "tsconfig.json"]);
    });

    it("no build yet; then current; then a source newer than the stamp, and tsconfig.json too", () => {
        assert.equal(launcher.staleBecause(dir), "no build yet");
        file(`build/${launcher.STAMP}`, 2000);
        assert.equal(launcher.staleBecause(dir), undefined, "files outside the include and non-.ts files do not count");
        file("cockpit/web/deep/x.ts", 3000);
        assert.equal(launcher.staleBecause(dir), "cockpit/web/deep/x.ts changed");
        file("cockpit/web/deep/x.ts", 1000);
        fs.utimesSync(path.join(dir, "tsconfig.json"), 3000, 3000);
        assert.equal(launcher.staleBecause(dir), "tsconfig.json changed");
    });
});
