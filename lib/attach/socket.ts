/**
 * Socket filters: {@link attachSocket} puts a `socket` program on a socket (`SO_ATTACH_BPF`);
 * {@link detachSocket} takes it off (`SO_DETACH_BPF`).
 *
 * @module
 */
import { Socket as DgramSocket } from 'node:dgram';
import type { BpfProgram } from '../program';
import { describe } from '../internal/validate';
import { checkProgram, nativeAttach } from './common';

/**
 * A socket: its fd, or a Node socket (`dgram.Socket`, `net.Socket`) whose fd is read from its
 * handle (bound or connected sockets only: Node opens the fd lazily).
 */
export type SocketRef = number | DgramSocket | { _handle?: { fd?: number } | null };

type Handle = { fd?: number } | null | undefined;

/**
 * The libuv handle behind a Node socket. A dgram socket's `_handle` is a deprecated getter
 * (DEP0112: it warns, and `--throw-deprecation` turns the warning into an exit), so its handle is
 * read from the socket's state, where dgram itself keeps it; a net.Socket's `_handle` is its own.
 */
function handleOf(socket: object): Handle {
  if (socket instanceof DgramSocket) {
    const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
    return state === undefined ? undefined : ((socket as unknown as Record<symbol, { handle?: Handle }>)[state]?.handle ?? undefined);
  }
  return (socket as { _handle?: Handle })._handle;
}

function socketFd(socket: SocketRef): number {
  if (typeof socket === 'number') {
    if (!Number.isInteger(socket) || socket < 0) throw new RangeError(`socket must be a file descriptor, got ${socket}`);
    return socket;
  }
  const fd = typeof socket === 'object' && socket !== null ? handleOf(socket)?.fd : undefined;
  if (typeof fd !== 'number' || fd < 0) {
    throw new TypeError(`socket must be an fd or a bound Node socket (dgram.Socket, net.Socket), got ${describe(socket)}`);
  }
  return fd;
}

/**
 * Attaches a `SEC("socket")` (socket_filter) program to a socket: the program sees each packet
 * the socket would receive and returns how many bytes of it to keep (0 drops it). A second
 * attach replaces the first.
 *
 * Lifetime: the filter belongs to the socket; it ends when the socket is closed or
 * {@link detachSocket} runs, not when the program's object is closed.
 *
 * Minimum kernel: 3.19.
 *
 * @throws TypeError when `socket` is neither an fd nor a bound Node socket
 * @throws {@link BpfError} `ENOTSOCK`/`EBADF` for an fd that is not a socket, `EINVAL` for a
 *   program that is not a socket filter
 * @example
 * ```ts
 * const sock = dgram.createSocket('udp4');
 * sock.bind(9000, '127.0.0.1', () => attachSocket(obj.program('keep_dns'), sock));
 * ```
 */
export function attachSocket(program: BpfProgram, socket: SocketRef): void {
  checkProgram(program);
  nativeAttach.socket(program.native, socketFd(socket));
}

/**
 * Removes the filter {@link attachSocket} put on a socket. Returns false when it had none.
 *
 * @throws {@link BpfError} `ENOTSOCK`/`EBADF` for an fd that is not a socket
 * @example
 * ```ts
 * detachSocket(sock);
 * ```
 */
export function detachSocket(socket: SocketRef): boolean {
  return nativeAttach.socketDetach(socketFd(socket));
}
