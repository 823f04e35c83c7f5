// Shell quoting, shared by every module that writes a command line (plan/commands.ts, the runtimes' own commands).

/** Single-quotes a word for /bin/sh. */
export function shq(word: string): string {
    return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
