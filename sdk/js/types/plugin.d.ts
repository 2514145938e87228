/// <reference path="./interfaces/tug-engine-configs.d.ts" />
/// <reference path="./interfaces/tug-engine-container-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-containers.d.ts" />
/// <reference path="./interfaces/tug-engine-distribution.d.ts" />
/// <reference path="./interfaces/tug-engine-engines.d.ts" />
/// <reference path="./interfaces/tug-engine-exec-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-exec.d.ts" />
/// <reference path="./interfaces/tug-engine-image-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-images.d.ts" />
/// <reference path="./interfaces/tug-engine-networks.d.ts" />
/// <reference path="./interfaces/tug-engine-nodes.d.ts" />
/// <reference path="./interfaces/tug-engine-plugin-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-plugins.d.ts" />
/// <reference path="./interfaces/tug-engine-registry-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-registry.d.ts" />
/// <reference path="./interfaces/tug-engine-secrets.d.ts" />
/// <reference path="./interfaces/tug-engine-service-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-services.d.ts" />
/// <reference path="./interfaces/tug-engine-swarm.d.ts" />
/// <reference path="./interfaces/tug-engine-system-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-system.d.ts" />
/// <reference path="./interfaces/tug-engine-task-streams.d.ts" />
/// <reference path="./interfaces/tug-engine-tasks.d.ts" />
/// <reference path="./interfaces/tug-engine-types.d.ts" />
/// <reference path="./interfaces/tug-engine-volumes.d.ts" />
/// <reference path="./interfaces/wasi-cli-environment.d.ts" />
/// <reference path="./interfaces/wasi-cli-exit.d.ts" />
/// <reference path="./interfaces/wasi-cli-run.d.ts" />
/// <reference path="./interfaces/wasi-cli-stderr.d.ts" />
/// <reference path="./interfaces/wasi-cli-stdin.d.ts" />
/// <reference path="./interfaces/wasi-cli-stdout.d.ts" />
/// <reference path="./interfaces/wasi-cli-terminal-input.d.ts" />
/// <reference path="./interfaces/wasi-cli-terminal-output.d.ts" />
/// <reference path="./interfaces/wasi-cli-terminal-stderr.d.ts" />
/// <reference path="./interfaces/wasi-cli-terminal-stdin.d.ts" />
/// <reference path="./interfaces/wasi-cli-terminal-stdout.d.ts" />
/// <reference path="./interfaces/wasi-clocks-monotonic-clock.d.ts" />
/// <reference path="./interfaces/wasi-clocks-wall-clock.d.ts" />
/// <reference path="./interfaces/wasi-filesystem-preopens.d.ts" />
/// <reference path="./interfaces/wasi-filesystem-types.d.ts" />
/// <reference path="./interfaces/wasi-io-error.d.ts" />
/// <reference path="./interfaces/wasi-io-poll.d.ts" />
/// <reference path="./interfaces/wasi-io-streams.d.ts" />
/// <reference path="./interfaces/wasi-random-insecure-seed.d.ts" />
/// <reference path="./interfaces/wasi-random-insecure.d.ts" />
/// <reference path="./interfaces/wasi-random-random.d.ts" />
/// <reference path="./interfaces/wasi-sockets-instance-network.d.ts" />
/// <reference path="./interfaces/wasi-sockets-ip-name-lookup.d.ts" />
/// <reference path="./interfaces/wasi-sockets-network.d.ts" />
/// <reference path="./interfaces/wasi-sockets-tcp-create-socket.d.ts" />
/// <reference path="./interfaces/wasi-sockets-tcp.d.ts" />
/// <reference path="./interfaces/wasi-sockets-udp-create-socket.d.ts" />
/// <reference path="./interfaces/wasi-sockets-udp.d.ts" />
declare module 'tug:engine/plugin@0.1.0' {
  export type * as TugEngineConfigs010 from 'tug:engine/configs@0.1.0'; // import tug:engine/configs@0.1.0
  export type * as TugEngineContainerStreams010 from 'tug:engine/container-streams@0.1.0'; // import tug:engine/container-streams@0.1.0
  export type * as TugEngineContainers010 from 'tug:engine/containers@0.1.0'; // import tug:engine/containers@0.1.0
  export type * as TugEngineDistribution010 from 'tug:engine/distribution@0.1.0'; // import tug:engine/distribution@0.1.0
  export type * as TugEngineEngines010 from 'tug:engine/engines@0.1.0'; // import tug:engine/engines@0.1.0
  export type * as TugEngineExecStreams010 from 'tug:engine/exec-streams@0.1.0'; // import tug:engine/exec-streams@0.1.0
  export type * as TugEngineExec010 from 'tug:engine/exec@0.1.0'; // import tug:engine/exec@0.1.0
  export type * as TugEngineImageStreams010 from 'tug:engine/image-streams@0.1.0'; // import tug:engine/image-streams@0.1.0
  export type * as TugEngineImages010 from 'tug:engine/images@0.1.0'; // import tug:engine/images@0.1.0
  export type * as TugEngineNetworks010 from 'tug:engine/networks@0.1.0'; // import tug:engine/networks@0.1.0
  export type * as TugEngineNodes010 from 'tug:engine/nodes@0.1.0'; // import tug:engine/nodes@0.1.0
  export type * as TugEnginePluginStreams010 from 'tug:engine/plugin-streams@0.1.0'; // import tug:engine/plugin-streams@0.1.0
  export type * as TugEnginePlugins010 from 'tug:engine/plugins@0.1.0'; // import tug:engine/plugins@0.1.0
  export type * as TugEngineRegistryStreams010 from 'tug:engine/registry-streams@0.1.0'; // import tug:engine/registry-streams@0.1.0
  export type * as TugEngineRegistry010 from 'tug:engine/registry@0.1.0'; // import tug:engine/registry@0.1.0
  export type * as TugEngineSecrets010 from 'tug:engine/secrets@0.1.0'; // import tug:engine/secrets@0.1.0
  export type * as TugEngineServiceStreams010 from 'tug:engine/service-streams@0.1.0'; // import tug:engine/service-streams@0.1.0
  export type * as TugEngineServices010 from 'tug:engine/services@0.1.0'; // import tug:engine/services@0.1.0
  export type * as TugEngineSwarm010 from 'tug:engine/swarm@0.1.0'; // import tug:engine/swarm@0.1.0
  export type * as TugEngineSystemStreams010 from 'tug:engine/system-streams@0.1.0'; // import tug:engine/system-streams@0.1.0
  export type * as TugEngineSystem010 from 'tug:engine/system@0.1.0'; // import tug:engine/system@0.1.0
  export type * as TugEngineTaskStreams010 from 'tug:engine/task-streams@0.1.0'; // import tug:engine/task-streams@0.1.0
  export type * as TugEngineTasks010 from 'tug:engine/tasks@0.1.0'; // import tug:engine/tasks@0.1.0
  export type * as TugEngineTypes010 from 'tug:engine/types@0.1.0'; // import tug:engine/types@0.1.0
  export type * as TugEngineVolumes010 from 'tug:engine/volumes@0.1.0'; // import tug:engine/volumes@0.1.0
  export type * as WasiCliEnvironment0212 from 'wasi:cli/environment@0.2.12'; // import wasi:cli/environment@0.2.12
  export type * as WasiCliExit0212 from 'wasi:cli/exit@0.2.12'; // import wasi:cli/exit@0.2.12
  export type * as WasiCliStderr0212 from 'wasi:cli/stderr@0.2.12'; // import wasi:cli/stderr@0.2.12
  export type * as WasiCliStdin0212 from 'wasi:cli/stdin@0.2.12'; // import wasi:cli/stdin@0.2.12
  export type * as WasiCliStdout0212 from 'wasi:cli/stdout@0.2.12'; // import wasi:cli/stdout@0.2.12
  export type * as WasiCliTerminalInput0212 from 'wasi:cli/terminal-input@0.2.12'; // import wasi:cli/terminal-input@0.2.12
  export type * as WasiCliTerminalOutput0212 from 'wasi:cli/terminal-output@0.2.12'; // import wasi:cli/terminal-output@0.2.12
  export type * as WasiCliTerminalStderr0212 from 'wasi:cli/terminal-stderr@0.2.12'; // import wasi:cli/terminal-stderr@0.2.12
  export type * as WasiCliTerminalStdin0212 from 'wasi:cli/terminal-stdin@0.2.12'; // import wasi:cli/terminal-stdin@0.2.12
  export type * as WasiCliTerminalStdout0212 from 'wasi:cli/terminal-stdout@0.2.12'; // import wasi:cli/terminal-stdout@0.2.12
  export type * as WasiClocksMonotonicClock0212 from 'wasi:clocks/monotonic-clock@0.2.12'; // import wasi:clocks/monotonic-clock@0.2.12
  export type * as WasiClocksWallClock0212 from 'wasi:clocks/wall-clock@0.2.12'; // import wasi:clocks/wall-clock@0.2.12
  export type * as WasiFilesystemPreopens0212 from 'wasi:filesystem/preopens@0.2.12'; // import wasi:filesystem/preopens@0.2.12
  export type * as WasiFilesystemTypes0212 from 'wasi:filesystem/types@0.2.12'; // import wasi:filesystem/types@0.2.12
  export type * as WasiIoError0212 from 'wasi:io/error@0.2.12'; // import wasi:io/error@0.2.12
  export type * as WasiIoPoll0212 from 'wasi:io/poll@0.2.12'; // import wasi:io/poll@0.2.12
  export type * as WasiIoStreams0212 from 'wasi:io/streams@0.2.12'; // import wasi:io/streams@0.2.12
  export type * as WasiRandomInsecureSeed0212 from 'wasi:random/insecure-seed@0.2.12'; // import wasi:random/insecure-seed@0.2.12
  export type * as WasiRandomInsecure0212 from 'wasi:random/insecure@0.2.12'; // import wasi:random/insecure@0.2.12
  export type * as WasiRandomRandom0212 from 'wasi:random/random@0.2.12'; // import wasi:random/random@0.2.12
  export type * as WasiSocketsInstanceNetwork0212 from 'wasi:sockets/instance-network@0.2.12'; // import wasi:sockets/instance-network@0.2.12
  export type * as WasiSocketsIpNameLookup0212 from 'wasi:sockets/ip-name-lookup@0.2.12'; // import wasi:sockets/ip-name-lookup@0.2.12
  export type * as WasiSocketsNetwork0212 from 'wasi:sockets/network@0.2.12'; // import wasi:sockets/network@0.2.12
  export type * as WasiSocketsTcpCreateSocket0212 from 'wasi:sockets/tcp-create-socket@0.2.12'; // import wasi:sockets/tcp-create-socket@0.2.12
  export type * as WasiSocketsTcp0212 from 'wasi:sockets/tcp@0.2.12'; // import wasi:sockets/tcp@0.2.12
  export type * as WasiSocketsUdpCreateSocket0212 from 'wasi:sockets/udp-create-socket@0.2.12'; // import wasi:sockets/udp-create-socket@0.2.12
  export type * as WasiSocketsUdp0212 from 'wasi:sockets/udp@0.2.12'; // import wasi:sockets/udp@0.2.12
  export * as run from 'wasi:cli/run@0.2.12'; // export wasi:cli/run@0.2.12
}
