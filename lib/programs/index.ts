/// <reference types="node" preserve="true" />
/**
 * Controllers for the XDP and tc programs shipped with libbpf-node: each loads its BPF object
 * (standalone, or into a slot of a {@link libbpf-node!RootArray}), drives its maps with typed values and
 * says what stays in the kernel.
 *
 * @example
 * ```ts
 * import { RootArray } from 'libbpf-node';
 * import { XdpFilter, XdpSampler, XdpCounter } from 'libbpf-node/programs';
 *
 * const root = await RootArray.attach('eth1', { mode: 'native' });
 * await using sampler = await XdpSampler.load({ root, slot: 0, rate: 1000 });
 * await using filter = await XdpFilter.load({ root, slot: 1 });
 * await using counter = await XdpCounter.load({ root, slot: 2 });
 * filter.block('203.0.113.0/24', { tag: 'abuse' });
 * ```
 *
 * @packageDocumentation
 */
export { XdpProgramController, type XdpPlacement, type ControllerAttachOptions, type ControllerAttachment } from './xdp-program';
export { XdpFilter, formatFilterStatus, type FilterLoadOptions, type FilterEntry, type FilterConfig, type FilterStats, type FilterStatus } from './filter';
export { XdpSampler, type SamplerLoadOptions, type Sample, type SamplerStats, type SamplesOptions, type ParseResult } from './sampler';
export { XdpCounter, counterProtocols, type CounterLoadOptions, type CounterProtocol, type PacketCount, type SourceCount } from './counter';
export { TcCounter, type TcCounterAttachOptions, type TcCounterStats, type TcDirectionStats } from './tc-counter';
