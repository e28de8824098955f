/// <reference types="node" preserve="true" />
/**
 * Test kit for eBPF/XDP programs: real packets through veth pairs in throw-away network namespaces.
 *
 * ```ts
 * import { VethPair } from 'libbpf-node/testing';
 *
 * await using net = await VethPair.create();   // namespaces lbn-<pid>-<n>-a/b, veth, addresses, links up
 * const got = net.receive({ on: 'a', udp: 9000, timeoutMs: 500 });
 * await net.send({ from: 'b', udp: { port: 9000, payload: 'hi' }, count: 100 });
 * (await got).count;                             // 100
 * await net.ping({ from: 'b', count: 3 });       // { sent: 3, received: 3 }
 * ```
 *
 * Everything happens inside namespaces the kit creates (names starting with `lbn-`); nothing is
 * configured in, or sent from, the root namespace. Needs root. Call {@link sweep} before a run to
 * remove namespaces left by killed runs.
 *
 * @packageDocumentation
 */

export { VethPair, VethEnd } from './veth.js';
export type {
  Side,
  ListenOptions,
  ReceiveOptions,
  TargetOptions,
  UdpSendOptions,
  TcpSendOptions,
  UdpSendResult,
  TcpSendResult,
  PingOptions,
  PingResult,
  RunOptions,
  SendFramesOptions,
  CaptureFramesOptions,
  CaptureFramesResult,
} from './veth.js';
export { udpFrame } from './frames.js';
export type { UdpFrameOptions } from './frames.js';
export { Listener } from './listener.js';
export type { CollectOptions, ReceivedPacket, ReceiveResult } from './listener.js';
export type { ExecOptions, ExecResult } from './command.js';
export { sweep } from './netns.js';
export { TestNetError, hasNetnsPrivileges } from './errors.js';
export type { TestNetErrorDetails } from './errors.js';
