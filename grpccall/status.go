package grpccall

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fuka-load/fuka/grpccall/grpcstatus"
	"github.com/fuka-load/fuka/metrics"
)

// Status is the HTTP-like status a gRPC code is counted under (see
// grpcstatus): OK is 200, every other code a distinct status of 400 or
// above (a failed call).
func Status(c codes.Code) int { return grpcstatus.Of(c) }

// Code is the gRPC code counted under status s; ok is false for a status
// no code maps to.
func Code(s int) (c codes.Code, ok bool) { return grpcstatus.Code(s) }

// Classify is how one call's outcome is recorded: a status (see Status)
// when the server answered with one, an error kind when no answer came —
// the call's own deadline passed (timeout), or the connection could not
// be made or broke (refused, reset, dns, tls), which grpc-go reports as
// Unavailable from the client side.
func Classify(ctx context.Context, err error) (int, metrics.ErrorKind) {
	if err == nil {
		return Status(codes.OK), metrics.ErrNone
	}
	s, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, metrics.ErrTimeout
		}
		return 0, metrics.ErrOther
	}
	switch s.Code() {
	case codes.DeadlineExceeded:
		if ctx.Err() != nil || pastDeadline(ctx) { // our deadline, not the server's answer
			return 0, metrics.ErrTimeout
		}
	case codes.Unavailable:
		if k := transportKind(s.Message()); k != metrics.ErrNone {
			return 0, k
		}
	}
	return Status(s.Code()), metrics.ErrNone
}

// pastDeadline reports whether ctx's deadline has passed even if ctx is
// not done yet: a grpc-go server resets the stream at its copy of the
// deadline, and grpc-go's client reports that reset as DeadlineExceeded
// once the deadline is past by the clock, which may be before ctx's own
// timer has fired. The call still ran out of our time.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !d.After(time.Now())
}

// transportKind reads grpc-go's own Unavailable messages, which carry the
// dial or read error's text.
func transportKind(msg string) metrics.ErrorKind {
	switch {
	case strings.Contains(msg, "connection refused"):
		return metrics.ErrRefused
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "produced zero addresses"):
		return metrics.ErrDNS
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"), strings.Contains(msg, "authentication handshake failed"):
		return metrics.ErrTLS
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "error reading from server: EOF"),
		strings.Contains(msg, "connection closed"), strings.Contains(msg, "broken pipe"):
		return metrics.ErrReset
	}
	return metrics.ErrNone
}
