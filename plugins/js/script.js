// The runtime contract of a JavaScript plugin: arguments, exit codes, uncaught errors, top-level await.
// `tug run script.wasm -- <mode> [N]`; prints `argv [...]` first.
console.log(`argv ${JSON.stringify(process.argv.slice(2))}`);

const [mode, n] = process.argv.slice(2);
switch (mode) {
  case 'exit':
    process.exit(Number(n));
    console.log('not reached');
    break;
  case 'code':
    process.exitCode = Number(n);
    console.log('done');
    break;
  case 'throw':
    throw new Error('thrown on purpose');
  case 'reject':
    await Promise.reject(new TypeError('rejected on purpose'));
    break;
  case 'await':
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log('awaited');
    break;
  default:
    console.log('done');
}
