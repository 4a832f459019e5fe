/**
 * Quoting for the three syntaxes the generated files use. Site validation already refuses
 * values that could inject directives; these make the templates safe on their own as well.
 */

/**
 * An Apache config argument: ap_getword_conf() takes a double-quoted word and undoes \" and \\.
 * Used for paths (which may hold spaces) and for mod_wsgi's name="value" options, whose value
 * goes through the same function.
 */
export function apacheQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A POSIX shell word: single quotes, with ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A systemd command-line argument (ExecStart=…): double-quoted with C escapes, `%` doubled
 * (unit specifiers) and `$` doubled (environment substitution).
 */
export function systemdArg(value: string): string {
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/** A systemd value taken whole (PIDFile=, Description=): only specifiers need escaping. */
export function systemdText(value: string): string {
  return value.replace(/%/g, '%%');
}

/**
 * One word of a piped logger's command line ("|/usr/bin/rotatelogs …"): Apache splits it with
 * apr_tokenize_to_argv, where a backslash makes the next space, tab or quote (or backslash) plain.
 * The whole command then goes through apacheQuote as one config argument.
 */
export function pipeWord(value: string): string {
  return value.replace(/[\\ \t"']/g, (c) => `\\${c}`);
}

/** A word of a cron command line: a shell word, with % escaped (cron turns a bare % into a newline). */
export function cronWord(value: string): string {
  return shellQuote(value).replace(/%/g, '\\%');
}
