package grpccall_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fuka-load/fuka/grpccall"
)

// endedConn is a connection whose server ends every stream before the
// client's first message goes out: Send says io.EOF and the status waits
// in Recv, as grpc-go reports a server that answers Unimplemented at once.
type endedConn struct{ status error }

func (c endedConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return c.status
}

func (c endedConn) NewStream(ctx context.Context, _ *grpc.StreamDesc, _ string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return endedStream{ctx: ctx, status: c.status}, nil
}

type endedStream struct {
	ctx    context.Context
	status error
}

func (s endedStream) Header() (metadata.MD, error) { return nil, nil }
func (s endedStream) Trailer() metadata.MD         { return nil }
func (s endedStream) CloseSend() error             { return nil }
func (s endedStream) Context() context.Context     { return s.ctx }
func (s endedStream) SendMsg(any) error            { return io.EOF }
func (s endedStream) RecvMsg(any) error            { return s.status }

// TestReflectEndedStream: a server that ends the reflection stream before
// the request is sent is judged by the status it ended it with, not by
// Send's io.EOF.
func TestReflectEndedStream(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status error
		want   string
	}{
		{"unimplemented", status.Error(codes.Unimplemented, "unknown service"), "neither grpc.reflection.v1 nor v1alpha"},
		{"unavailable", status.Error(codes.Unavailable, "going away"), "going away"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := grpccall.Reflect(context.Background(), endedConn{tc.status}, "fuka.demo.Cart/Add")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
