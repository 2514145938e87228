// The runtime of a JavaScript/TypeScript tug plugin: `tug build` generates an entry exporting
// `run = { async run() { await runMain(() => import('/abs/app.js')); } }`, so the script's top-level code
// (with top-level await) runs when the plugin runs, not when it is built.

import { exitWithCode } from 'wasi:cli/exit@0.2.12';
import { process, writeStderr, _markStarted, _setFatalHandler, _pending, _sleepNative } from './globals.js';
import { formatUncaught } from './errors.js';

function die(e) {
  try { writeStderr(formatUncaught(e)); } catch { /* nothing left to report with */ }
  exitWithCode(1);
}

/**
 * Runs the script `load` imports, as Node runs a module: an uncaught error (thrown at top level, a
 * rejected top-level await, a throwing timer callback or callback-style API callback) prints
 * `Uncaught <Name>: <message>` and its stack to stderr and exits 1; `process.exit(n)` exits n at once;
 * otherwise the plugin waits for its pending timers and callback-style calls, then exits with
 * `process.exitCode` (0 by default). Unhandled rejections of promises nobody awaits go unnoticed.
 */
export async function runMain(load) {
  _markStarted();
  _setFatalHandler(die);
  try {
    await load();
    while (_pending()) await _sleepNative(2);
  } catch (e) {
    die(e);
  }
  const code = Number(process.exitCode ?? 0) & 0xff;
  if (code !== 0) exitWithCode(code);
}
