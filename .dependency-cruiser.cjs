/**
 * The layers of README's "Layout of the code" as a graph that only points down, checked by
 * `npm run lint` (dependency-cruiser). Type-only imports count: a type that a lower layer needs
 * lives in that layer (src/plan/facts.ts holds the facts the planners read).
 *
 * Top to bottom; a folder may import only folders on a lower line, never its own line's others:
 *   cli.ts, launch.ts (the bundle's front door), demo/
 *   commands/
 *   after/          the checks after a change, and what a change and its checks share
 *   verify/         its failover findings use failover's reading of the variants
 *   failover/
 *   apache/
 *   apply/  db/  fetch/  release/
 *   state/
 *   archive/
 *   plan/           pure: nothing that touches the disk, the network or processes
 *   catalog/
 *   site/
 *   core/
 */
const LAYERS = [
  ['cli.ts', 'launch.ts', 'demo'],
  ['commands'],
  ['watch'],
  ['after'],
  ['verify'],
  ['failover'],
  ['apache'],
  ['apply', 'db', 'fetch', 'release'],
  ['state'],
  ['archive'],
  ['plan'],
  ['catalog'],
  ['site'],
  ['core'],
];

const folder = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '[.]')}$` : `^src/${name}/`);
const layerRules = LAYERS.flatMap((line, i) =>
  line.map((name) => {
    const allowed = LAYERS.slice(i + 1).flat();
    return {
      name: `layer-${name.replace('.ts', '')}`,
      comment: `src/${name} may import only the layers below it: ${allowed.join(', ')} (README "Layout of the code", docs/architecture.md)`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: '^src/', pathNot: [folder(name), ...allowed.map(folder)] },
    };
  }),
);

// What touches the disk, the network or processes: node's modules for them, and the packages that do.
const IMPURE = [
  '^(node:)?(fs|fs/promises|child_process|net|http|https|http2|dgram|dns|tls|os|worker_threads|cluster|process|readline)$',
  // Packages resolve into node_modules: matched by where they lie (a bare '^pg$' never matched).
  '(^|/)node_modules/(execa|pg|tar|undici)/',
];

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'plan-is-pure',
      comment:
        'src/plan is pure: nothing it reaches, even through other modules or for a type, touches the disk, the network or processes',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: { reachable: true, path: IMPURE },
    },
    {
      name: 'plan-is-pure-direct',
      comment: 'src/plan is pure: it imports no module that touches the disk, the network or processes',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: { dependencyTypes: ['core'], path: IMPURE },
    },
    {
      name: 'one-process-runner',
      comment:
        'every child process goes through src/core/exec.ts (runProcess: argument arrays, lazy execa, privilege): no other module imports execa or node:child_process',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/core/exec[.]ts$' },
      // execa resolves into node_modules: matched by where it lies, not by its bare name.
      to: { path: ['^(node:)?child_process$', '(^|/)node_modules/execa/'] },
    },
    {
      name: 'no-file-cycles',
      comment: 'no cycle between files, type-only imports included',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    exclude: { path: '^dist/' },
  },
};
