// Reading what `ip`, `docker` and the probe servers print, as plain values. Pure: table-tested on fixed text.

/** `ip route get` (or one line of `ip route`): destination, gateway, device, source. */
export interface RouteGet { readonly dst: string; readonly via?: string; readonly dev?: string; readonly src?: string; readonly type?: string; }

export function parseRouteGet(text: string): RouteGet | undefined {
    const line = text.split("\n").map((l) => l.trim()).find((l) => l.length > 0);
    if (!line) { return undefined; }
    const words = line.split(/\s+/);
    const after = (k: string) => { const i = words.indexOf(k); return i >= 0 ? words[i + 1] : undefined; };
    const typed = ["local", "broadcast", "unreachable", "prohibit", "blackhole"].includes(words[0]);
    return { dst: typed ? words[1] : words[0], via: after("via"), dev: after("dev"), src: after("src"), ...(typed ? { type: words[0] } : {}) };
}

/** `ip -o link show` lines: index, name (without @peer), the peer's interface index, master, up. */
export interface Link { readonly index: number; readonly name: string; readonly peerIndex?: number; readonly master?: string; readonly up: boolean; }

export function parseLinks(text: string): Link[] {
    const out: Link[] = [];
    for (const line of text.split("\n")) {
        const m = /^(\d+):\s+([^:@\s]+)(?:@(?:if)?(\d+|NONE))?:\s+<([^>]*)>(.*)$/.exec(line.trim());
        if (!m) { continue; }
        const master = /\bmaster (\S+)/.exec(m[5])?.[1];
        out.push({
            index: Number(m[1]), name: m[2], ...(m[3] && m[3] !== "NONE" ? { peerIndex: Number(m[3]) } : {}),
            ...(master ? { master } : {}), up: m[4].split(",").includes("UP"),
        });
    }
    return out;
}

/** `ip -4 -o addr show` lines: interface -> address with prefix. */
export function parseAddrs(text: string): { dev: string; cidr: string }[] {
    return text.split("\n").flatMap((l) => {
        const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(l.trim());
        return m ? [{ dev: m[1], cidr: m[2] }] : [];
    });
}

/**
 * A probe server's log, busybox httpd (-vv) or nginx's access log: which client address requested /from-<name>.
 * busybox: `[::ffff:10.244.1.2]:34012: url:/from-web-1`; nginx: `192.168.1.11 - - [..] "GET /from-web-1 HTTP/1.0" 404 …`.
 */
export function parseProbeLog(text: string): Map<string, string> {
    const seen = new Map<string, string>();
    for (const line of text.split("\n")) {
        const bb = /^\[(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)\]:\d+: url:\/from-(\S+)/.exec(line.trim());
        const ng = /^(\d+\.\d+\.\d+\.\d+) .*"GET \/from-(\S+) HTTP/.exec(line.trim());
        const m = bb ?? ng;
        if (m) { seen.set(m[2], m[1]); }
    }
    return seen;
}

/** Splits a script's output into sections marked by lines `@name rest`. */
export function sections(text: string): Map<string, string> {
    const out = new Map<string, string>();
    let key = "";
    let buf: string[] = [];
    const flush = () => { if (key) { out.set(key, buf.join("\n")); } };
    for (const line of text.split("\n")) {
        if (line.startsWith("@")) { flush(); key = line.slice(1).trim(); buf = []; } else { buf.push(line); }
    }
    flush();
    return out;
}
