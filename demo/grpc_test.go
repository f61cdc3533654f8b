package demo

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestStartServesGRPC: the demo target's own port answers gRPC (HTTP/2
// without TLS) beside HTTP/1.1: reflection lists the service, calls are
// counted by code and not as HTTP requests, and Close does not wait on a
// client that keeps its connection open.
func TestStartServesGRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	srv, err := Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	refl, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := refl.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := refl.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !slices.Contains(names, GRPCService) {
		t.Errorf("reflection lists %q, want %s among them", names, GRPCService)
	}
	_ = refl.CloseSend()

	add := cartFile.Services().ByName("Cart").Methods().ByName("Add")
	call := func(item string) (*dynamicpb.Message, error) {
		req, reply := dynamicpb.NewMessage(add.Input()), dynamicpb.NewMessage(add.Output())
		req.Set(add.Input().Fields().ByName("item"), protoreflect.ValueOfString(item))
		return reply, conn.Invoke(ctx, "/"+GRPCService+"/Add", req, reply)
	}
	reply, err := call("tea")
	if err != nil || reply.Get(add.Output().Fields().ByName("total")).Int() != 1 {
		t.Fatalf("Add: %v, reply %v", err, reply)
	}
	if _, err := call(""); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Add without an item: %v, want InvalidArgument", err)
	}
	hresp, err := http.Get(srv.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	hresp.Body.Close()
	g := srv.GRPC()
	if g.Calls(codes.OK) != 1 || g.Calls(codes.InvalidArgument) != 1 || g.Total() != 2 || srv.Served() != 1 || hresp.StatusCode != 200 {
		t.Errorf("gRPC %d OK, %d InvalidArgument, %d in all; HTTP %d served, /health %d; want 1, 1, 2, 1, 200",
			g.Calls(codes.OK), g.Calls(codes.InvalidArgument), g.Total(), srv.Served(), hresp.StatusCode)
	}

	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if took := time.Since(start); took > shutdownGrace/2 {
		t.Errorf("Close took %v with an idle gRPC client connected", took)
	}
}
