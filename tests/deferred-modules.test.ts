// The npm machinery the SDK loads for closure serialisation waits until it is used; every other require is untouched.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { deferUnusedSdkModules, lazyModule } from "../host/deferred-modules";

// TypeScript's own `import * as x` helper, as it emits it for CommonJS (esModuleInterop), so the stand-in is tested
// the way the SDK's compiled code takes it.
const IMPORT_STAR = `var __importStar = function (mod) { if (mod && mod.__esModule) return mod; var result = {};
  if (mod != null) for (var k in mod) if (k !== "default" && Object.prototype.hasOwnProperty.call(mod, k)) result[k] = mod[k];
  result["default"] = mod; return result; };`;

describe("deferred modules: loaded on first use, not at start-up", () => {
    it("a lazy module loads once, on the first read, `in` or key listing, and passes everything through", () => {
        let loads = 0;
        const real = { Arborist: class { ok = true; }, version: "9" };
        const lazy = lazyModule(() => { loads++; return real; }) as typeof real & { __esModule: boolean };
        assert.equal(lazy.__esModule, true);
        assert.equal(loads, 0, "asking whether it is an ES module does not load it");
        assert.equal(new lazy.Arborist().ok, true);
        assert.equal(lazy.version, "9");
        assert.ok("version" in lazy);
        assert.deepEqual(Object.keys(lazy), ["Arborist", "version"]);
        assert.equal(loads, 1);
    });

    it("only the named requester gets the stand-in; the module loads when that requester first uses it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-deferred-"));
        try {
            const dep = path.join(dir, "dep.js");
            fs.writeFileSync(dep, "globalThis.podnetDepLoads = (globalThis.podnetDepLoads || 0) + 1; exports.value = 42;\n");
            fs.writeFileSync(path.join(dir, "user.js"),
                `${IMPORT_STAR}\nconst dep = __importStar(require(${JSON.stringify(dep)}));\nexports.use = () => dep.value;\n`);
            fs.writeFileSync(path.join(dir, "other.js"), `exports.dep = require(${JSON.stringify(dep)});\n`);
            const g = globalThis as { podnetDepLoads?: number };
            assert.equal(deferUnusedSdkModules([{ request: dep, from: "/user.js" }]), true);
            assert.equal(deferUnusedSdkModules([{ request: dep, from: "/user.js" }]), false, "deferred once");

            const user = require(path.join(dir, "user.js")) as { use: () => number };
            assert.equal(g.podnetDepLoads, undefined, "requiring user.js did not load dep.js");
            assert.equal(user.use(), 42);
            assert.equal(g.podnetDepLoads, 1, "the first use loaded it");
            const other = require(path.join(dir, "other.js")) as { dep: { value: number } };
            assert.equal(other.dep.value, 42);
            assert.equal(g.podnetDepLoads, 1, "any other requester gets the module itself, from the cache");
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });

    it("the Pulumi SDK loads without @npmcli/arborist, and its closure code paths still work", async () => {
        // This file imports nothing of the SDK above, and node --test runs each test file in its own process.
        const arborist = () => Object.keys(require.cache).filter((k) => k.includes("/@npmcli/arborist/")).length;
        assert.equal(arborist(), 0);
        deferUnusedSdkModules();
        const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        assert.equal(arborist(), 0, "the SDK loaded without it");
        const paths = await pulumi.runtime.computeCodePaths();
        assert.ok(paths.size > 0);
        assert.ok(arborist() > 0, "closure serialisation loaded it when it needed it");
    });
});
