// The Go peer of `npm run bench` (events part), built by bench/go-peer.ts where `go` and Debian's
// golang-github-cilium-ebpf-dev are installed (GOPATH mode, offline). It drains a filled ring or
// perf buffer with cilium/ebpf's ReadInto, as bench/native_bench.c does with libbpf.
//
//	peer ring <records the producer writes>       fd 3: the ring buffer map, fd 4: its producer
//	peer perf <records> <pages per CPU>           fd 3: the perf event array, fd 4: its producer
//
// Prints "<records received> <ns>" for the second drain alone (the first warms up: pages faulted
// in), timed from the end of the producer run.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go peer:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: peer ring|perf count [pages]"))
	}
	count, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail(err)
	}
	m, err := ebpf.NewMapFromFD(3)
	if err != nil {
		fail(err)
	}
	prog, err := ebpf.NewProgramFromFD(4)
	if err != nil {
		fail(err)
	}
	var received int
	var ns int64
	switch os.Args[1] {
	case "ring":
		rd, err := ringbuf.NewReader(m)
		if err != nil {
			fail(err)
		}
		var rec ringbuf.Record
		drain := func() {
			dropped, err := prog.Run(&ebpf.RunOptions{})
			if err != nil {
				fail(err)
			}
			received = 0
			want := count - int(dropped)
			t := time.Now()
			for received < want {
				if err := rd.ReadInto(&rec); err != nil {
					fail(err)
				}
				received++
			}
			ns = time.Since(t).Nanoseconds()
		}
		drain() // warm-up: pages faulted in, as the other consumers get
		drain()
		rd.Close()
	case "perf":
		pages, err := strconv.Atoi(os.Args[3])
		if err != nil {
			fail(err)
		}
		rd, err := perf.NewReader(m, pages*os.Getpagesize())
		if err != nil {
			fail(err)
		}
		var rec perf.Record
		drain := func() {
			dropped, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)})
			if err != nil {
				fail(err)
			}
			received = 0
			want := count - int(dropped)
			t := time.Now()
			for received < want {
				if err := rd.ReadInto(&rec); err != nil {
					fail(err)
				}
				if rec.LostSamples == 0 {
					received++
				}
			}
			ns = time.Since(t).Nanoseconds()
		}
		drain()
		drain()
		rd.Close()
	default:
		fail(fmt.Errorf("unknown buffer %q", os.Args[1]))
	}
	fmt.Println(received, ns)
}
