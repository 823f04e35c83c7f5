// The Pulumi Node.js SDK loads, as soon as the program imports it, the npm machinery its closure serialisation
// uses (`runtime/closure/codePaths.js` requires `@npmcli/arborist`, which loads pacote, sigstore and more): about
// 0.3 s of CPU on the critical path of every `pulumi up` and `preview`, for a feature this program never uses
// (it serialises no functions). Installed before the SDK is first loaded, this hands codePaths.js a stand-in
// that loads the real module the first time anything in it is used, so closure serialisation still works.
import Module = require("node:module");

/** The deferred modules: the module requested, and the end of the path of the SDK file that requests it. */
export const DEFERRED: readonly { request: string; from: string }[] = [
    { request: "@npmcli/arborist", from: "/@pulumi/pulumi/runtime/closure/codePaths.js" },
];

/**
 * A stand-in for a CommonJS module that loads it on first use (a property read, `in`, or listing its keys). It says
 * it is an ES module, so TypeScript's `__importStar` keeps it as it is instead of copying (and so loading) it.
 */
export function lazyModule(load: () => object): object {
    let real: object | undefined;
    const target = (): object => (real ??= load());
    return new Proxy({}, {
        get: (_, key) => (key === "__esModule" ? true : Reflect.get(target(), key)),
        has: (_, key) => Reflect.has(target(), key),
        ownKeys: () => Reflect.ownKeys(target()),
        getOwnPropertyDescriptor: (_, key) => {
            const d = Reflect.getOwnPropertyDescriptor(target(), key);
            return d && { ...d, configurable: true };
        },
    });
}

type Load = (request: string, parent: { filename?: string } | null | undefined, isMain: boolean) => unknown;

const deferring: { request: string; from: string }[] = [];

/**
 * Defers the modules in `deferred` when the file named there requires them; every other require is untouched.
 * Returns false if they were all deferred already. The hook, installed once, goes on Node's CommonJS loader
 * (`Module._load`, where require-in-the-middle and APM agents hook too).
 */
export function deferUnusedSdkModules(deferred = DEFERRED): boolean {
    const added = deferred.filter((d) => !deferring.some((e) => e.request === d.request && e.from === d.from));
    if (!added.length) { return false; }
    if (!deferring.length) {
        const loader = Module as unknown as { _load: Load };
        const original = loader._load;
        loader._load = function (this: unknown, request, parent, isMain) {
            const from = parent?.filename?.replace(/\\/g, "/");
            if (from && deferring.some((d) => d.request === request && from.endsWith(d.from))) {
                return lazyModule(() => original.call(this, request, parent, isMain) as object);
            }
            return original.call(this, request, parent, isMain);
        };
    }
    deferring.push(...added);
    return true;
}
