// tug-bench's trivial JavaScript plugin (P7 cold start): what a dockerode script does first — a client,
// one call (GET /version) — then exit.
import Docker from 'dockerode';

await new Docker().version();
