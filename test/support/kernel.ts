// What the running kernel has, for tests: skips by feature (never by guess), and the emulation
// scale of the kernel matrix (test/support/scale.ts, re-exported).
//
// A test that needs a feature uses itWith/describeWith: where the kernel lacks the feature the
// test is skipped and its name says which feature and which minimum kernel; where the kernel's
// version says it should have the feature but the probe says no, the test FAILS instead, so a
// broken probe cannot hide a regression behind a skip. Features that need more than a version
// (a config option, a mount, hardware: `requires` in lib/features.ts) only skip, naming that.
// itWithout/describeWithout run the degraded path: where the kernel lacks the feature.
import { describe, it } from 'vitest';
import { FEATURES, hasFeature, kernelAtLeast, kernelVersion, type FeatureName, type FeatureSpec } from '../../lib/features';
import { canLoadBpf } from './helpers';

export { scaledCount, scaledMs, slow } from './scale';

/** Why a test needing `features` cannot run here, or undefined when it can. */
export function missing(features: FeatureName | FeatureName[]): string | undefined {
  if (!canLoadBpf) return 'needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs (run as root)';
  const absent = ([] as FeatureName[]).concat(features).filter((f) => !hasFeature(f));
  if (absent.length === 0) return undefined;
  const what = absent
    .map((f) => {
      const spec: FeatureSpec = FEATURES[f];
      return `${spec.description} ('${f}', Linux ${spec.minKernel}+${spec.requires ? ` and ${spec.requires}` : ''})`;
    })
    .join(' and ');
  return `needs ${what}; this is ${kernelVersion().release}`;
}

/** The features the kernel lacks although its version says it should have them. */
function shouldHave(features: FeatureName | FeatureName[]): FeatureName[] {
  if (!canLoadBpf) return [];
  return ([] as FeatureName[])
    .concat(features)
    .filter((f) => !hasFeature(f) && (FEATURES[f] as FeatureSpec).requires === undefined && kernelAtLeast(FEATURES[f].minKernel));
}

function probeFailure(absent: FeatureName[]): () => never {
  return () => {
    const what = absent.map((f) => `'${f}' (since ${FEATURES[f].minKernel})`).join(', ');
    throw new Error(`kernel ${kernelVersion().release} should have ${what}, but the probe says it does not`);
  };
}

/** `it` that runs where the kernel has `features`; skipped, naming them, where it lacks one. */
export function itWith(features: FeatureName | FeatureName[], name: string, fn: () => unknown, timeout?: number): void {
  const why = missing(features);
  const wrong = shouldHave(features);
  if (!why) it(name, fn, timeout);
  else if (wrong.length > 0) it(name, probeFailure(wrong));
  else it.skip(`${name} [skipped: ${why}]`, fn);
}

/** `describe` that runs where the kernel has `features`; skipped, naming them, where it lacks one. */
export function describeWith(features: FeatureName | FeatureName[], name: string, fn: () => void): void {
  const why = missing(features);
  const wrong = shouldHave(features);
  if (!why) describe(name, fn);
  else if (wrong.length > 0) describe(name, () => it('has the features its kernel version promises', probeFailure(wrong)));
  else describe.skip(`${name} [skipped: ${why}]`, fn);
}

/** `it` for the degraded path: runs only where the kernel lacks `feature`. */
export function itWithout(feature: FeatureName, name: string, fn: () => unknown, timeout?: number): void {
  if (!canLoadBpf) it.skip(`${name} [skipped: ${missing(feature)}]`, fn);
  else if (hasFeature(feature)) it.skip(`${name} [skipped: the kernel has '${feature}']`, fn);
  else it(name, fn, timeout);
}

/** `describe` for the degraded path: runs only where the kernel lacks `feature`. */
export function describeWithout(feature: FeatureName, name: string, fn: () => void): void {
  if (!canLoadBpf) describe.skip(`${name} [skipped: ${missing(feature)}]`, fn);
  else if (hasFeature(feature)) describe.skip(`${name} [skipped: this kernel has '${feature}']`, fn);
  else describe(name, fn);
}
