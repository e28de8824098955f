// Skipping by feature probe: a test that needs a kernel feature runs where `features.has()` says
// the kernel has it, and is skipped elsewhere with the feature, what it is and its minimum kernel
// in the title (so the skip says why, not "skipped").
import { describe } from 'vitest';
import { FEATURES, features, type FeatureName } from '../lib/index';
import { canLoadBpf } from './helpers';

/** Why a test needing `name` is skipped here, or undefined when it can run. */
export function missingFeature(name: FeatureName): string | undefined {
  if (!canLoadBpf) return 'needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs (run as root)';
  if (features.has(name)) return undefined;
  const spec = FEATURES[name] as { description: string; minKernel: string; requires?: string };
  return `kernel lacks feature '${name}': ${spec.description}, Linux ${spec.minKernel}+${spec.requires ? ` and ${spec.requires}` : ''}`;
}

/** `describe` that runs only where the kernel has feature `name`. */
export const describeWithFeature = (name: FeatureName, title: string, fn: () => void) => {
  const why = missingFeature(name);
  return describe.skipIf(why !== undefined)(why === undefined ? title : `${title} [skipped: ${why}]`, fn);
};

/** `describe` that runs only where the kernel LACKS feature `name`: checks the up-front refusal. */
export const describeWithoutFeature = (name: FeatureName, title: string, fn: () => void) => {
  const has = canLoadBpf && features.has(name);
  return describe.skipIf(!canLoadBpf || has)(has ? `${title} [skipped: this kernel has '${name}']` : title, fn);
};
