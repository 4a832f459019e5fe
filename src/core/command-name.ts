/** The command's name: the first word that is not an option or an option's value. */
export function splitCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}
