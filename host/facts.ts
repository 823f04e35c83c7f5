// Reads what the preflight (plan/preflight.ts) checks: the host engine's Docker networks and the host's routes.
// Read-only; each part says why it could not be read instead of failing.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { HostFacts, HostNetwork, parseProcRoute } from "../plan/preflight";

function dockerNetworks(): HostFacts["networks"] {
    try {
        const run = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).trim();
        const ids = run("network", "ls", "-q").split("\n").filter(Boolean);
        if (!ids.length) { return []; }
        const nets = JSON.parse(run("network", "inspect", ...ids)) as { Name: string; IPAM?: { Config?: { Subnet?: string }[] | null } }[];
        return nets.map((n): HostNetwork => ({ name: n.Name, subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter(Boolean) }));
    } catch (e) {
        return { unknown: `docker network ls failed: ${String((e as Error).message).split("\n")[0]}` };
    }
}

function hostRoutes(): HostFacts["routes"] {
    try { return parseProcRoute(fs.readFileSync("/proc/net/route", "utf8")); }
    catch { return { unknown: "no /proc/net/route on this host (not Linux: Docker Desktop keeps its networks in its own VM)" }; }
}

export function readHostFacts(): HostFacts {
    return { networks: dockerNetworks(), routes: hostRoutes() };
}
