#!/usr/bin/env node
// `npm run podnet -- <verb>` and `npx podnet <verb>`: the cockpit, as fast as it is typed. It compiles the project
// (`tsc -p .`, type-checked as before) only when a TypeScript source or tsconfig.json is newer than the last good
// build, a few milliseconds of `stat`s; then it runs build/cockpit/main.js in this same process.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
/** Written under build/ after each `tsc -p .` that succeeded: the build is at least as new as its mtime. */
const STAMP = ".podnet-built";

/** The files tsconfig.json's `include` names: plain files and `DIR/**\/*.ts` folders (the forms it uses). */
function sources(root) {
    const config = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
    const files = [path.join(root, "tsconfig.json")];
    const walk = (dir) => {
        let entries;
        try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
        for (const e of entries) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) { walk(p); } else if (e.name.endsWith(".ts")) { files.push(p); }
        }
    };
    for (const inc of config.include) {
        const m = /^(.*)\/\*\*\/\*\.ts$/.exec(inc);
        if (m) { walk(path.join(root, m[1])); } else { files.push(path.join(root, inc)); }
    }
    return files;
}

/** The first source newer than the last good build, or undefined when the build is current. */
function staleBecause(root) {
    let built;
    try { built = fs.statSync(path.join(root, "build", STAMP)).mtimeMs; } catch { return "no build yet"; }
    for (const f of sources(root)) {
        let m;
        try { m = fs.statSync(f).mtimeMs; } catch { continue; }
        if (m > built) { return `${path.relative(root, f)} changed`; }
    }
    return undefined;
}

function build(root, why) {
    process.stderr.write(`podnet: building (${why}): tsc -p .\n`);
    const started = Date.now();
    const r = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", root], { stdio: "inherit", cwd: root });
    if (r.status !== 0) {
        process.stderr.write("podnet: the build failed (above); fix it and run again\n");
        process.exit(2);
    }
    const stamp = path.join(root, "build", STAMP);
    fs.writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
    // The stamp carries the time the build started, so a source saved during the build is still seen as newer.
    fs.utimesSync(stamp, new Date(started), new Date(started));
}

if (require.main === module) {
    const why = staleBecause(ROOT);
    if (why) { build(ROOT, why); }
    require(path.join(ROOT, "build", "cockpit", "main.js")).cli(process.argv.slice(2));
}

module.exports = { sources, staleBecause, STAMP };
