// What the running kernel has, for tests: skips by the probe's answer (never by the version), and
// the emulation scale of the kernel matrix (test/support/scale.ts, re-exported).
//
// A test that needs a feature uses itWith/describeWith: where the probe does not answer
// "available" the test is skipped and its name says which feature and what the kernel answered
// (the reason from features.answer()). Whether a kernel *should* have a feature is not decided
// here: the kernel matrix (test/kernels/) records, for each Debian kernel it boots, the feature
// set that kernel must show, and fails a guest whose probes disagree. On any other kernel (vendor,
// restricted, unknown) the suite skips by probe and passes.
// itWithout/describeWithout run the degraded path: where the kernel lacks the feature.
import { describe, it } from 'vitest';
import { FEATURES, featureAnswer, hasFeature, kernelVersion, type FeatureName, type FeatureSpec } from '../../lib/features';
import { canLoadBpf } from './helpers';

export { scaledCount, scaledMs, slow } from './scale';

/** Why a test needing `features` cannot run here, or undefined when it can. */
export function missing(features: FeatureName | FeatureName[]): string | undefined {
  if (!canLoadBpf) return 'needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs (run as root)';
  const absent = ([] as FeatureName[]).concat(features).filter((f) => featureAnswer(f).state !== 'available');
  if (absent.length === 0) return undefined;
  const what = absent
    .map((f) => {
      const spec: FeatureSpec = FEATURES[f];
      const a = featureAnswer(f);
      return `${spec.description} ('${f}'), ${a.state} on ${kernelVersion().release}: ${a.reason}`;
    })
    .join('; and ');
  return `needs ${what}`;
}

/** `it` that runs where the kernel has `features`; skipped, naming them and the kernel's answer, where it lacks one. */
export function itWith(features: FeatureName | FeatureName[], name: string, fn: () => unknown, timeout?: number): void {
  const why = missing(features);
  if (!why) it(name, fn, timeout);
  else it.skip(`${name} [skipped: ${why}]`, fn);
}

/** `describe` that runs where the kernel has `features`; skipped, naming them and the kernel's answer, where it lacks one. */
export function describeWith(features: FeatureName | FeatureName[], name: string, fn: () => void): void {
  const why = missing(features);
  if (!why) describe(name, fn);
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
