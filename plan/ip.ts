// IPv4 math on numbers (never on dotted strings), with ipaddr.js doing the parsing.
import * as ipaddr from "ipaddr.js";

export interface Cidr { readonly base: number; readonly prefix: number; }

export function ipToNumber(ip: string): number | undefined {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) { return undefined; }
    const b = ipaddr.IPv4.parse(ip).toByteArray();
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function numberToIp(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses "a.b.c.d/p"; undefined when it is not an IPv4 CIDR. Host bits are checked by the caller. */
export function parseCidr(text: string): Cidr | undefined {
    const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
    if (!m) { return undefined; }
    const base = ipToNumber(m[1]);
    const prefix = Number(m[2]);
    if (base === undefined || prefix > 32) { return undefined; }
    return { base, prefix };
}

export function size(c: Cidr): number { return 2 ** (32 - c.prefix); }
export function mask(prefix: number): number { return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0; }
export function hasHostBits(c: Cidr): boolean { return ((c.base & ~mask(c.prefix)) >>> 0) !== 0; }
export function networkOf(c: Cidr): Cidr { return { base: (c.base & mask(c.prefix)) >>> 0, prefix: c.prefix }; }
export function formatCidr(c: Cidr): string { return `${numberToIp(c.base)}/${c.prefix}`; }
export function contains(c: Cidr, ip: number): boolean { return ip >= c.base && ip < c.base + size(c); }
export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.base < b.base + size(b) && b.base < a.base + size(a);
}
/** The index-th subnet of length `prefix` inside `parent` (index 0 is the parent's first). */
export function subnet(parent: Cidr, prefix: number, index: number): Cidr {
    return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}
