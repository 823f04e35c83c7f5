// The Pulumi Node.js SDK records a stack trace on every promise it makes (`debuggablePromise`: `new Error().stack`),
// and reads it only to print promise leaks under PULUMI_DEBUG_PROMISE_LEAKS. Under ts-node each trace went through
// source maps: about a fifth of a 10-node lab's no-change preview (measured: 5.8–6.8 s against 4.5–5.4 s). Those
// traces are now cut to their first line (no frames to format), unless PULUMI_DEBUG_PROMISE_LEAKS asks to print them;
// every other stack trace (the program's own errors, the positions Pulumi records for each resource) is still
// mapped to the TypeScript source.

type Prepare = (err: Error, frames: NodeJS.CallSite[]) => unknown;

/** Wraps `prepare` so that a trace made by a function named `debuggablePromise` is only its first line. */
export function skipMappingPromiseTraces(prepare: Prepare): Prepare {
    return (err, frames) => frames[0]?.getFunctionName() === "debuggablePromise"
        ? `${err}\n    at debuggablePromise (frames not kept; PULUMI_DEBUG_PROMISE_LEAKS=true keeps them)`
        : prepare(err, frames);
}

/** Installs the wrapper when source maps are in use (ts-node sets Error.prepareStackTrace) and leaks are not debugged. */
export function installPromiseTraceShortcut(env: NodeJS.ProcessEnv = process.env): boolean {
    const prepare = Error.prepareStackTrace as Prepare | undefined;
    if (!prepare || env.PULUMI_DEBUG_PROMISE_LEAKS) { return false; }
    Error.prepareStackTrace = skipMappingPromiseTraces(prepare);
    return true;
}
