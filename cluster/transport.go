package cluster

import (
	"context"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// maxMsg bounds one message: a snapshot of many request names with wide
// latency spreads is a few hundred kB; a plan job carries its data files.
const maxMsg = 256 << 20

// session is an open stream, whichever side dialed: the stream, a context
// that ends with it, and how to end it from this side.
type session struct {
	s    stream
	ctx  context.Context
	end  func()
	addr string // the peer's address
	// closeSend, on the dialing side, tells the peer nothing more is sent.
	closeSend func()
}

func creds(id *Identity, server bool) credentials.TransportCredentials {
	switch {
	case id == nil:
		return insecure.NewCredentials()
	case server:
		return credentials.NewTLS(id.ServerConfig())
	default:
		return credentials.NewTLS(id.ClientConfig())
	}
}

// serve hosts the Session service on ln: each stream is handed to accept,
// which owns it until it calls end (the handler returns then). A peer whose
// certificate fails the handshake never reaches accept. Stop the returned
// server to close the listener.
func serve(ln net.Listener, id *Identity, accept func(*session)) *grpc.Server {
	srv := grpc.NewServer(grpc.Creds(creds(id, true)), grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg))
	fukapb.RegisterClusterServer(srv, handler{accept: accept})
	go srv.Serve(ln) //nolint:errcheck // ends when the server is stopped
	return srv
}

type handler struct {
	fukapb.UnimplementedClusterServer
	accept func(*session)
}

func (h handler) Session(s fukapb.Cluster_SessionServer) error {
	ctx, end := context.WithCancel(s.Context())
	defer end()
	se := &session{s: s, ctx: ctx, end: end, closeSend: func() {}}
	if p, ok := peer.FromContext(s.Context()); ok {
		se.addr = p.Addr.String()
	}
	h.accept(se)
	<-ctx.Done()
	return nil
}

// dial opens a session with the Session service at addr. It waits up to
// timeout for the connection (refused connections are retried by gRPC),
// and gives up if ctx ends meanwhile. The session then lasts until end is
// called, whatever becomes of ctx: a worker interrupted mid-run (Ctrl-C,
// SIGTERM) still sends its final snapshot and says Done before it ends the
// session.
func dial(ctx context.Context, addr string, id *Identity, timeout time.Duration) (*session, error) {
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds(id, false)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	detach := context.AfterFunc(ctx, cancel)
	t := time.AfterFunc(timeout, cancel)
	s, err := fukapb.NewClusterClient(cc).Session(sctx, grpc.WaitForReady(true))
	t.Stop()
	detach()
	if err != nil {
		cancel()
		cc.Close()
		return nil, err
	}
	end := func() {
		cancel()
		cc.Close()
	}
	return &session{s: s, ctx: sctx, end: end, addr: addr, closeSend: func() { _ = s.CloseSend() }}, nil
}
