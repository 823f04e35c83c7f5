// Checks of the plan against the host it is about to run on, from facts read beforehand (host/facts.ts):
// pure, so every case is a table test. Read-only: nothing here changes the host.
import { Cidr, formatCidr, ipToNumber, overlaps, parseCidr } from "./ip";
import { LabPlan } from "./plan";

export interface HostNetwork { readonly name: string; readonly subnets: readonly string[]; }
export interface HostRoute { readonly destination: string; readonly device: string; }
export interface HostFacts {
    /** Docker networks on the host engine, or why they could not be read. */
    readonly networks: readonly HostNetwork[] | { readonly unknown: string };
    /** The host's IPv4 routes, or why they could not be read (e.g. not Linux). */
    readonly routes: readonly HostRoute[] | { readonly unknown: string };
}

const known = <T>(x: readonly T[] | { readonly unknown: string }): x is readonly T[] => Array.isArray(x);

/**
 * The LAN must not overlap another Docker network (the engine would refuse it, after other resources were made)
 * nor a route of the host (moby#21141: a Docker network on the host's own LAN range cuts the host off from it).
 * The lab's own LAN, from an earlier `up`, is not a conflict. Returns the problems and what could not be checked.
 */
export function checkHost(plan: Pick<LabPlan, "lan">, facts: HostFacts): { problems: string[]; unchecked: string[] } {
    const problems: string[] = [];
    const unchecked: string[] = [];
    const lan = parseCidr(plan.lan.cidr) as Cidr;
    const key = `config podnet-lab:lanCidr ${plan.lan.cidr}`;
    const dockerSubnets = new Set<string>();
    if (known(facts.networks)) {
        for (const n of facts.networks) {
            for (const s of n.subnets) {
                const c = parseCidr(s);
                if (!c) { continue; }                          // IPv6 or unparsable: not this check's business
                dockerSubnets.add(formatCidr(c));
                if (n.name !== plan.lan.network && overlaps(c, lan)) {
                    problems.push(`${key} overlaps the Docker network '${n.name}' (${s}); choose a lanCidr no Docker network on this host uses (docker network ls)`);
                }
            }
        }
    } else {
        unchecked.push(`Docker networks (${facts.networks.unknown})`);
    }
    if (known(facts.routes)) {
        for (const r of facts.routes) {
            const c = parseCidr(r.destination);
            // The default route overlaps everything, and a Docker network's own route is the check above.
            if (!c || c.prefix === 0 || dockerSubnets.has(formatCidr(c))) { continue; }
            if (overlaps(c, lan)) {
                problems.push(`${key} overlaps the host's route to ${r.destination} (dev ${r.device}); a Docker network there would cut the host off from that network (moby#21141): choose another lanCidr`);
            }
        }
    } else {
        unchecked.push(`host routes (${facts.routes.unknown})`);
    }
    return { problems, unchecked };
}

/** One line of /proc/net/route -> destination CIDR (the file holds little-endian hex). */
export function parseProcRoute(text: string): HostRoute[] {
    const hexIp = (h: string) => [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16)).join(".");
    return text.split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8).map((f) => {
        const mask = ipToNumber(hexIp(f[7])) ?? 0;
        const prefix = mask.toString(2).replace(/0+$/, "").length;
        return { destination: `${hexIp(f[1])}/${mask === 0 ? 0 : prefix}`, device: f[0] };
    });
}
