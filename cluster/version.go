package cluster

import (
	"fmt"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// ProtocolVersion is the version of proto/fuka.proto this package speaks.
// 1 sent the job as JSON of command-line flag names; 2 sent a typed Job,
// one job a session; 3 holds a session for a sequence of jobs (Stop.end
// ends it).
const ProtocolVersion = 3

// VersionError is a controller and a worker of different fuka versions (or
// protocols): a distributed run needs one fuka on every machine, since the
// same job must compile to the same load everywhere.
type VersionError struct {
	Worker, Controller                 string // fuka versions
	WorkerProtocol, ControllerProtocol int32
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("version mismatch: the worker runs fuka %s (%s), the controller fuka %s (%s); run the same fuka version on the controller and every worker",
		orUnknown(e.Worker), protocol(e.WorkerProtocol), orUnknown(e.Controller), protocol(e.ControllerProtocol))
}

// protocol names a protocol version; 0 is a fuka that did not send one.
func protocol(p int32) string {
	if p == 0 {
		return "an older protocol"
	}
	return fmt.Sprintf("protocol %d", p)
}

func orUnknown(v string) string {
	if v == "" {
		return "of an unknown version"
	}
	return v
}

// sameVersion reports whether a peer of version v speaking protocol p may
// run a job with this side (version mine).
func sameVersion(mine, v string, p int32) bool {
	return p == ProtocolVersion && v == mine
}

// msgRefuse is the controller's Stop to a worker of another version.
func msgRefuse(e *VersionError) *fukapb.Msg {
	return &fukapb.Msg{Kind: &fukapb.Msg_Stop{Stop: &fukapb.Stop{
		Reason: e.Error(), VersionMismatch: true, Version: e.Controller, Protocol: e.ControllerProtocol,
	}}}
}
