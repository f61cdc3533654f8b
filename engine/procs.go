package engine

import "runtime"

// SetProcs readies the Go runtime for the fast path, and returns the CPUs
// the process may use: Go's default GOMAXPROCS, which honours cgroup CPU
// limits. Call it once, at start, before any load.
//
// It sets GOMAXPROCS to one more than that, unless userSet (the user's
// GOMAXPROCS is kept): the fast path's event loops block in epoll, and
// while every P sits in a blocking syscall the scheduler hands each one to
// a new thread after 20µs and takes it back on return, which at tens of
// thousands of waits a second costs more than the requests. An idle P
// spares that (runtime.retake).
func SetProcs(userSet bool) (cpus int) {
	cpus = runtime.GOMAXPROCS(0)
	if !userSet {
		runtime.GOMAXPROCS(cpus + 1)
	}
	return cpus
}
