/**
 * Type entry points of `@grafana/grafana-foundation-sdk` for this project's TypeScript settings.
 *
 * The SDK publishes one entry per package (`@grafana/grafana-foundation-sdk/dashboard`, ...)
 * only through package.json `exports`, which `moduleResolution: "node"` (tsconfig.json) does not
 * read, so `tsc` cannot find their types although Node, tsx and vitest load them fine. These
 * ambient modules point each entry used here at its declaration file (`dist/<name>/index.d.ts`,
 * reachable without `exports`). Types only: nothing here exists at run time.
 *
 * Remove this file once tsconfig.json resolves `exports` (`"moduleResolution": "node16"` with
 * `"module": "node16"`, or a `paths` entry `"@grafana/grafana-foundation-sdk/*":
 * ["./node_modules/@grafana/grafana-foundation-sdk/dist/*"]`).
 */
declare module '@grafana/grafana-foundation-sdk/cog' {
  export * from '@grafana/grafana-foundation-sdk/dist/cog/index';
}
declare module '@grafana/grafana-foundation-sdk/common' {
  export * from '@grafana/grafana-foundation-sdk/dist/common/index';
}
declare module '@grafana/grafana-foundation-sdk/dashboard' {
  export * from '@grafana/grafana-foundation-sdk/dist/dashboard/index';
}
declare module '@grafana/grafana-foundation-sdk/prometheus' {
  export * from '@grafana/grafana-foundation-sdk/dist/prometheus/index';
}
declare module '@grafana/grafana-foundation-sdk/stat' {
  export * from '@grafana/grafana-foundation-sdk/dist/stat/index';
}
declare module '@grafana/grafana-foundation-sdk/table' {
  export * from '@grafana/grafana-foundation-sdk/dist/table/index';
}
declare module '@grafana/grafana-foundation-sdk/timeseries' {
  export * from '@grafana/grafana-foundation-sdk/dist/timeseries/index';
}
