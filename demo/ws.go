package demo

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The WebSocket endpoints: /ws/echo sends every message back as it came;
// /ws/chat is one room where every message goes to every connected
// client, its sender included, so a chat load test sees its own messages
// come back through the room.

// wsWriteTimeout bounds one write to a peer: a client that stops reading
// is dropped instead of stalling the room.
const wsWriteTimeout = 2 * time.Second

func (a *app) serveWSEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept wrote the error response
	}
	defer c.CloseNow()
	a.wsConns.Add(1)
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		a.wsReceived.Add(1)
		if writeTimed(ctx, c, typ, msg) != nil {
			return
		}
	}
}

// room is /ws/chat's set of connected clients.
type room struct {
	mu    sync.Mutex
	peers map[*websocket.Conn]struct{}
}

func (a *app) serveWSChat(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	a.wsConns.Add(1)
	rm := &a.chat
	rm.mu.Lock()
	if rm.peers == nil {
		rm.peers = map[*websocket.Conn]struct{}{}
	}
	rm.peers[c] = struct{}{}
	rm.mu.Unlock()
	defer func() { rm.mu.Lock(); delete(rm.peers, c); rm.mu.Unlock() }()
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		a.wsReceived.Add(1)
		rm.mu.Lock()
		peers := make([]*websocket.Conn, 0, len(rm.peers))
		for p := range rm.peers {
			peers = append(peers, p)
		}
		rm.mu.Unlock()
		for _, p := range peers {
			if writeTimed(ctx, p, typ, msg) != nil && p != c {
				p.CloseNow() // its own handler sees the error and leaves the room
			}
		}
	}
}

// writeTimed writes one message within wsWriteTimeout (coder/websocket
// conns allow concurrent writers).
func writeTimed(ctx context.Context, c *websocket.Conn, typ websocket.MessageType, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return c.Write(ctx, typ, msg)
}
