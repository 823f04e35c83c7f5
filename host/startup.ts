// Start-up workarounds for the Pulumi Node.js SDK, imported for their effect by index.ts's first line, before the
// SDK loads. Each works around one upstream behaviour; what each buys is measured in docs/performance.md.
import { deferUnusedSdkModules } from "./deferred-modules";
import { installPromiseTraceShortcut } from "./stack-traces";

// The SDK loads @npmcli/arborist (and pacote, sigstore ...) at import, for closure serialisation this program never uses.
deferUnusedSdkModules();
// The SDK records a stack trace on every promise, and ts-node maps each one through source maps, for a debug option.
installPromiseTraceShortcut();
