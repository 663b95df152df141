/**
 * `node src/import-child.ts <specifier>`: the time to import one module into a fresh process that has loaded
 * nothing else (no static imports here on purpose). Prints `RESULT {"importMs": …}`.
 */
const specifier = process.argv[2] ?? ""
const t0 = performance.now()
await import(specifier)
const t1 = performance.now()
process.stdout.write(`RESULT ${JSON.stringify({ importMs: t1 - t0, processStartToImportedMs: t1 })}\n`)
