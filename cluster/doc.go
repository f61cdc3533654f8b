// Package cluster runs one load on many machines: a controller hands each
// worker its share of the load and a common start, the workers stream their
// 1-second snapshots (HDR histograms, never percentiles), and the
// controller merges them exactly into one run, as if one process had run
// the whole load.
//
// The transport is one bidirectional gRPC stream per worker (see
// proto/fuka.proto), hosted by whichever side listens, under mutual TLS:
// every certificate is issued by the cluster's own CA and names its role
// (worker or controller) in a URI SAN; a peer with no certificate, another
// CA's, an expired one or the wrong role is refused in the handshake,
// before any message is read.
//
// Faults: both sides beat a heartbeat every second, and the controller
// answers each of a worker's at once. A worker silent for 3 s (or whose
// stream broke) is lost: the run goes on without it or stops (LossPolicy),
// and the result is marked degraded, with the lost share and a bound on
// its unreported requests. A worker starts requests only while it holds a
// lease (2.5 s from its last answered heartbeat), asked again right before
// each request's first byte is written (engine.Lease.Holds), so one cut
// off from its controller, or frozen and thawed after it was given up
// (even between taking a start and writing it), sends nothing the
// controller does not count; one that loses its controller also
// cancels its run. A worker interrupted on its own host sends its final
// snapshot and leaves (the run is degraded, nothing is unreported).
//
// A controller holds its workers for a sequence of jobs (Join, RunJob …,
// Close: a capacity search's steps), over the same sessions: after each
// Done a worker waits for the next Assign, until the controller ends the
// session. A worker lost between jobs is replaced before the next one (a
// new worker joins, or a dialed one is dialed again).
//
//	controller                          worker j of N
//	   │ ◀──────────── Hello ─────────────── │
//	   │ ───── Assign(job, j/N, start) ────▶ │  waits for start, runs engine.Run
//	   │ ◀──────── Snapshot (1/s) ────────── │
//	   │ ◀─────── Heartbeat (1/s) ─────────▶ │
//	   │ ───────── Stop (Ctrl-C) ──────────▶ │
//	   │ ◀──────────── Done ──────────────── │
//	   │ ───── Assign(next job) … Done ────▶ │  as many jobs as the controller has
//	   │ ─────────── Stop(end) ────────────▶ │  the session ends
package cluster
