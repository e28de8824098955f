/**
 * {@link InterfaceRef}: how functions that act on a network interface name it, and the network
 * namespace it lives in.
 *
 * @module
 */
import type { NativeInterface } from './native';
import { checkKnownKeys, checkObject, describe } from './validate';

/**
 * A network interface: its name (`'eth0'`) or its ifindex (`7`). Names and indexes are per
 * network namespace; give {@link InterfaceOptions.netns} for an interface that is not in the
 * namespace of the calling process.
 */
export type InterfaceRef = string | number;

/** Where to find the interface. Every function taking an {@link InterfaceRef} accepts these. */
export interface InterfaceOptions {
  /**
   * The network namespace the interface lives in, as a path: `/run/netns/<name>` for a namespace
   * made by `ip netns add` (the test kit's `VethEnd.netnsPath`), or `/proc/<pid>/ns/net`. The
   * native call switches its thread into the namespace for the duration of the call and back
   * (the process itself never moves). Default: the caller's namespace.
   */
  netns?: string;
}

const IFNAMSIZ = 16;

/** The native reference to an interface already resolved to its index (in `netns`, when given). */
export function nativeInterfaceAt(ifindex: number, netns: string | undefined): NativeInterface {
  return netns === undefined ? { index: ifindex } : { index: ifindex, netns };
}

/** @internal Validates an interface and its namespace into the native form. */
export function toNativeInterface(iface: unknown, netns: unknown, what = 'iface'): NativeInterface {
  const out: NativeInterface = {};
  if (typeof iface === 'string') {
    if (iface.length === 0 || iface.length >= IFNAMSIZ || iface.includes('/') || /\s|\0/.test(iface)) {
      throw new RangeError(`${what} must be an interface name of 1 to ${IFNAMSIZ - 1} characters without '/' or spaces, got ${describe(iface)}`);
    }
    out.name = iface;
  } else if (typeof iface === 'number') {
    if (!Number.isInteger(iface) || iface < 1 || iface > 0x7fffffff) throw new RangeError(`${what} must be a positive ifindex, got ${iface}`);
    out.index = iface;
  } else {
    throw new TypeError(`${what} must be an interface name or ifindex, got ${describe(iface)}`);
  }
  if (netns !== undefined) {
    if (typeof netns !== 'string' || netns.length === 0 || !netns.startsWith('/')) {
      throw new TypeError(`options.netns must be an absolute path such as /run/netns/<name>, got ${describe(netns)}`);
    }
    out.netns = netns;
  }
  return out;
}

/** @internal Checks an options object: an object, with only known keys. */
export function checkOptions(options: unknown, name: string, known: readonly string[]): Record<string, unknown> {
  checkObject(options, name);
  checkKnownKeys(options, name, known);
  return options;
}
