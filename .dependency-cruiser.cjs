/**
 * The direction of dependencies between the package's folders, checked by `npm test`
 * (`npm run lint:deps`). The core (`src/`) is platform-independent: it never imports a platform
 * adapter, an entry point or the test runtimes. Adapters implement the contract (`src/adapter.ts`)
 * and see nothing else of the core. Entries compose the two through the core's public index.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-platform-independent',
      comment: 'src/ must not import adapters/, entries/ or testing/: platforms plug in through the adapter contract.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(adapters|entries|testing)/' },
    },
    {
      name: 'core-uses-only-the-shared-protocol',
      comment: 'Of the server, src/ may import only server/src/protocol/: the constants and rules both sides share.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^server/', pathNot: '^server/src/protocol/' },
    },
    {
      name: 'shared-protocol-stands-alone',
      comment: 'server/src/protocol/ is bundled into mini-programs: it imports nothing but itself.',
      severity: 'error',
      from: { path: '^server/src/protocol/' },
      to: { pathNot: '^server/src/protocol/' },
    },
    {
      name: 'adapters-see-only-the-contract',
      comment: 'adapters/ may import from src/ only the contract, src/adapter.ts.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^src/', pathNot: '^src/adapter\\.ts$' },
    },
    {
      name: 'adapters-are-independent',
      comment: 'One adapter never imports another adapter folder; shared code lives in adapters/shared/ (or shared-miniprogram.ts).',
      severity: 'error',
      from: { path: '^adapters/(web|weapp|uniapp|taro)/' },
      to: { path: '^adapters/(web|weapp|uniapp|taro)/', pathNot: '^adapters/$1/' },
    },
    {
      name: 'entries-use-the-public-core',
      comment: 'entries/ compose adapters with the core through src/index.ts, not its internals.',
      severity: 'error',
      from: { path: '^entries/' },
      to: { path: '^src/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'testing-is-a-platform',
      comment: 'testing/ (the published mini-program runtimes) imports nothing of the SDK: it stands in for a platform.',
      severity: 'error',
      from: { path: '^testing/' },
      to: { path: '^(src|adapters|entries)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules of the SDK means two of them own the same thing.',
      severity: 'error',
      from: { path: '^(src|adapters|entries)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
