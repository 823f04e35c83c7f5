
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
