// Layering rules of src/ (docs/architecture.md has the picture). `npm run lint` runs them; each rule says why.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules cannot be read, tested or moved apart.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'rancher-is-an-adapter',
      severity: 'error',
      comment:
        'The Rancher client knows HTTP and Rancher, not Kubernetes: it must stay usable (and testable) alone.',
      from: { path: '^src/rancher/' },
      to: { path: '^src/(kube|controller|operator|runtime)/' },
    },
    {
      name: 'api-is-the-contract',
      severity: 'error',
      comment:
        'Schemas and CRD generation describe the API; they never depend on how it is reconciled or on Rancher.',
      from: { path: '^src/api/' },
      to: { path: '^src/(controller|rancher|kube|operator|runtime)/' },
    },
    {
      name: 'machinery-below-controllers',
      severity: 'error',
      comment:
        'kube/ and runtime/ know no resource kind: controllers build on them, never the other way round.',
      from: { path: '^src/(kube|runtime)/' },
      to: { path: '^src/(controller|operator)/' },
    },
    {
      name: 'controllers-below-wiring',
      severity: 'error',
      comment: 'Controllers receive their effects injected; only operator/ and main.ts wire them.',
      from: { path: '^src/controller/' },
      to: { path: '^src/(operator/|main\\.ts$)' },
    },
    {
      name: 'main-is-wiring-only',
      severity: 'error',
      comment:
        'main.ts parses flags, starts servers and the operator; everything else goes through operator/.',
      from: { path: '^src/main\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(operator|config|observability)/' },
    },
    {
      name: 'apikey-and-connection-controllers-apart',
      severity: 'error',
      comment: 'Each controller owns its folder; what both need lives in src/controller/ itself.',
      from: { path: '^src/controller/connection/' },
      to: { path: '^src/controller/apikey/(execute|reconcile|observe)' },
    },
    {
      name: 'test-support-stays-in-tests',
      severity: 'error',
      comment: 'Fakes and mocks are excluded from the build: production code must not import them.',
      from: { path: '^src/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { path: '(\\.test-support\\.ts$|^test/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^node_modules|^dist)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
