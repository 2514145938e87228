// tug-sdk: a dockerode-shaped client for tug plugins written in JavaScript or TypeScript.
//
//   import Docker from 'dockerode';          // `tug build` maps 'dockerode' and 'tug-sdk' to this module
//   const docker = new Docker();
//   const [result, container] = await docker.run('tug-test/busybox:latest', ['echo', 'hi'], process.stdout);
//
// See README.md for what differs from dockerode and what is not offered.

import { Docker } from './lib/docker.js';

export {
  Docker, Container, Image, Network, Volume, Exec, Service, Task, Node, Secret, Config, Plugin, Modem,
  followProgress,
} from './lib/docker.js';
export { FrameStream, AttachStream, JsonStream, ByteStream, Frame, demuxStream, demux, splitMultiplexed } from './lib/streams.js';
export {
  DockerError, NotFoundError, ConflictError, BadRequestError, NotModifiedError, DeniedError, ApiVersionError,
  InvalidArgumentError, IntegrityError, TransportError, TimeoutError, ProgressError, NotOfferedError,
} from './lib/errors.js';
export { tar, pack as tarPack, extract as tarExtract } from './lib/tar.js';
export { Buffer } from './lib/buffer.js';

export default Docker;
