// YAML for plain data, as kubectl prints manifests (the static pods' text; a runtime that writes manifests uses it).
// Words YAML reads back as the same string without quotes (a ":" only inside, never before a space or at the end).
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./:-]*[A-Za-z0-9_./-]$|^[A-Za-z_/]$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
function scalar(v: unknown): string {
    if (typeof v === "number" || typeof v === "boolean") { return String(v); }
    const s = String(v);
    return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** YAML for plain data (objects, arrays, strings, numbers, booleans), block style, as kubectl prints manifests. */
export function toYaml(value: unknown): string { return `${yamlLines(value, "").join("\n")}\n`; }

function yamlLines(value: unknown, indent: string): string[] {
    const isBlock = (v: unknown) => typeof v === "object" && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
    const inline = (v: unknown) => (Array.isArray(v) ? "[]" : typeof v === "object" && v !== null ? "{}" : scalar(v));
    const lines: string[] = [];
    if (Array.isArray(value)) {
        for (const item of value) {
            if (!isBlock(item)) { lines.push(`${indent}- ${inline(item)}`); continue; }
            // A list item that is a map starts on the dash's line: "- name: web".
            const inner = yamlLines(item, `${indent}  `);
            if (Array.isArray(item)) { lines.push(`${indent}-`, ...inner); } else { lines.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1)); }
        }
    } else if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            if (v === undefined) { continue; }
            if (!isBlock(v)) { lines.push(`${indent}${scalar(k)}: ${inline(v)}`); continue; }
            // Lists sit at their key's indentation, as kubectl writes them.
            lines.push(`${indent}${scalar(k)}:`, ...yamlLines(v, Array.isArray(v) ? indent : `${indent}  `));
        }
    } else {
        lines.push(`${indent}${scalar(value)}`);
    }
    return lines;
}
