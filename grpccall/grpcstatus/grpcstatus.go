// Package grpcstatus is how fuka counts gRPC status codes: each code as an
// HTTP-like status (OK 200, every other code its own status of 400 or
// more), so that summaries, thresholds, JSON, the HTML and distributed
// merges count gRPC calls as they count HTTP requests, and the label the
// reports show for such a status ("503 Unavailable (gRPC 14)"). It is a
// leaf package, so that the reports name codes without depending on the
// gRPC client; docs/json.md has the table.
package grpcstatus

import (
	"strconv"

	"google.golang.org/grpc/codes"
)

// statusOf: where google.rpc.Code documents an HTTP equivalent that no
// other code shares, it is that one; codes that share one there get a
// neighbour of their own, so no two codes are counted together.
var statusOf = [...]int{
	codes.OK:                 200,
	codes.Canceled:           499,
	codes.Unknown:            520,
	codes.InvalidArgument:    400,
	codes.DeadlineExceeded:   504,
	codes.NotFound:           404,
	codes.AlreadyExists:      409,
	codes.PermissionDenied:   403,
	codes.ResourceExhausted:  429,
	codes.FailedPrecondition: 412,
	codes.Aborted:            425,
	codes.OutOfRange:         416,
	codes.Unimplemented:      501,
	codes.Internal:           500,
	codes.Unavailable:        503,
	codes.DataLoss:           507,
	codes.Unauthenticated:    401,
}

// Of is the status a gRPC code is counted under; a code outside 0..16
// counts as Unknown's.
func Of(c codes.Code) int {
	if int(c) < len(statusOf) {
		return statusOf[c]
	}
	return statusOf[codes.Unknown]
}

// Code is the gRPC code counted under status s; ok is false for a status
// no code maps to.
func Code(s int) (c codes.Code, ok bool) {
	for i, v := range statusOf {
		if v == s {
			return codes.Code(i), true
		}
	}
	return 0, false
}

// Name is the name of the gRPC code counted under status key k
// ("Unavailable" for "503"); k itself when no code maps to it.
func Name(k string) string {
	if s, err := strconv.Atoi(k); err == nil {
		if c, ok := Code(s); ok {
			return c.String()
		}
	}
	return k
}

// Label is how the reports show status key k (a summary's status map key)
// of a gRPC call: the status, the code's name and number, e.g. "503
// Unavailable (gRPC 14)"; k itself when no code maps to it.
func Label(k string) string {
	s, err := strconv.Atoi(k)
	if err != nil {
		return k
	}
	c, ok := Code(s)
	if !ok {
		return k
	}
	return k + " " + c.String() + " (gRPC " + strconv.Itoa(int(c)) + ")"
}
