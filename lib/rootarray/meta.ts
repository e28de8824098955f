/**
 * The root array's metadata hand-off (`xdp_root_pass_meta`, `bpf/include/xdp_meta.h`): whether
 * the root may parse each packet once and pass the summary to the slots in the XDP metadata area,
 * decided by probing the kernel (`features.answer('xdp-meta-64')`), never by its version.
 *
 * Some kernels refuse `bpf_xdp_adjust_meta` in XDP programs outright (the verifier would refuse
 * the whole root), others allow only 32 bytes of metadata (the hand-off would do nothing but cost
 * a parse): on both, the hand-off turns itself off and says why.
 * @module
 */
import { featureAnswer } from '../features';
import { BpfMap } from '../map/map';
import { isMissing, programInfo } from './pins';

/** The read-only global of `xdp_root.bpf.c` that turns the hand-off on. */
export const PASS_META_GLOBAL = 'xdp_root_pass_meta';

/** Whether a root array hands parsed packets to its slots in the XDP metadata area, and why. */
export interface MetadataHandoff {
  /** True when the running root parses each packet and passes its summary to the slots. */
  passing: boolean;
  /** Why it is on or off: asked for or not, or what the kernel answered when it was probed. */
  reason: string;
}

/**
 * What a root loaded now should do when `requested`: the value for `xdp_root_pass_meta` and why.
 * Off where the kernel's probe does not answer "available" (the verifier refuses
 * `bpf_xdp_adjust_meta` in XDP programs, or the kernel allows less than 64 bytes of metadata, or
 * the probe was refused).
 */
export function metadataDecision(requested: boolean): MetadataHandoff {
  if (!requested) return { passing: false, reason: 'off: not asked for ({ passMeta: true }, or xdp-root attach --pass-meta, turns it on when the root is loaded)' };
  const answer = featureAnswer('xdp-meta-64');
  if (answer.state === 'available') return { passing: true, reason: 'on: the root parses each packet once and passes the summary to the slots' };
  return { passing: false, reason: `asked for, but turned off: this kernel cannot hand 64 bytes of metadata to the slots (${answer.state}: ${answer.reason}); each slot parses for itself` };
}

/**
 * The `xdp_root_pass_meta` the running root program `rootId` was loaded with: false when it has
 * none, or when the program (or its .rodata) left the kernel meanwhile (replaced by another
 * process: the replacement is asked next time).
 */
export function passMetaOf(rootId: number): boolean {
  let mapIds: number[];
  try {
    mapIds = programInfo(rootId).mapIds;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
  for (const mapId of mapIds) {
    let opened: BpfMap;
    try {
      opened = BpfMap.openById(mapId);
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
    using map = opened;
    if (!map.name.endsWith('.rodata')) continue;
    const rodata = map.typed<number, Record<string, unknown>>().get(0);
    const v = rodata?.[PASS_META_GLOBAL];
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
  }
  return false;
}

/** What the running root `rootId` does, as `status()` reports it. */
export function metadataOf(rootId: number): MetadataHandoff {
  if (passMetaOf(rootId)) return metadataDecision(true);
  const answer = featureAnswer('xdp-meta-64');
  if (answer.state !== 'available') {
    return { passing: false, reason: `off: this kernel cannot hand 64 bytes of metadata to the slots (${answer.state}: ${answer.reason}); each slot parses for itself` };
  }
  return metadataDecision(false);
}
