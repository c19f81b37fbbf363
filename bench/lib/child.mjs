// Runs one suite in its own process (clean heap, its own timers and sockets) and hands the result
// to bench/run.mjs over IPC. Usage: node --expose-gc bench/lib/child.mjs <suite> '<json options>'.
const [suite, json] = process.argv.slice(2);
let message;
try {
  const mod = await import(`../suites/${suite}.mjs`);
  message = { result: await mod.run(JSON.parse(json || '{}')) };
} catch (err) {
  message = { error: String(err?.stack ?? err) };
}
if (process.send) process.send(message, () => process.exit(0));
else {
  console.log(JSON.stringify(message, null, 2));
  process.exit(0);
}
