// The SDK's per-promise stack traces keep only their first line, unmapped; every other trace is still mapped.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { installPromiseTraceShortcut, skipMappingPromiseTraces } from "../host/stack-traces";

const mapped = () => "MAPPED";

describe("stack traces: the SDK's per-promise traces are cut to their first line, unmapped", () => {
    it("a trace made by debuggablePromise is its first line only; any other one goes through the mapping", () => {
        const saved = Error.prepareStackTrace;
        Error.prepareStackTrace = skipMappingPromiseTraces(mapped);
        try {
            function debuggablePromise(): string | undefined { return new Error("x").stack; }
            function programCode(): string | undefined { return new Error("y").stack; }
            const promiseTrace = debuggablePromise();
            assert.equal(promiseTrace, "Error: x\n    at debuggablePromise (frames not kept; PULUMI_DEBUG_PROMISE_LEAKS=true keeps them)");
            assert.equal(programCode(), "MAPPED");
        } finally { Error.prepareStackTrace = saved; }
    });

    it("is installed only over a mapping (ts-node's), and not when promise leaks are debugged", () => {
        const saved = Error.prepareStackTrace;
        try {
            delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
            assert.equal(installPromiseTraceShortcut({}), false);
            assert.equal(Error.prepareStackTrace, undefined);
            Error.prepareStackTrace = mapped;
            assert.equal(installPromiseTraceShortcut({ PULUMI_DEBUG_PROMISE_LEAKS: "1" }), false);
            assert.equal(Error.prepareStackTrace, mapped);
            assert.equal(installPromiseTraceShortcut({}), true);
            assert.notEqual(Error.prepareStackTrace, mapped);
        } finally { Error.prepareStackTrace = saved; }
    });
});
