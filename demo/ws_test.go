package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func dialWS(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestWebSocketEndpoints(t *testing.T) {
	srv := newTestServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	t.Run("echo sends each message back, text and binary", func(t *testing.T) {
		c := dialWS(t, ctx, srv.URL+"/ws/echo")
		for _, tc := range []struct {
			typ websocket.MessageType
			msg string
		}{{websocket.MessageText, `{"ping":1}`}, {websocket.MessageBinary, "\x00\x01"}} {
			if err := c.Write(ctx, tc.typ, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil || typ != tc.typ || string(got) != tc.msg {
				t.Errorf("echo of %q: %v %q %v", tc.msg, typ, got, err)
			}
		}
	})
	t.Run("chat sends each message to every client", func(t *testing.T) {
		// A client is in the room once its own message comes back to it:
		// its handshake ends before the server's handler adds it.
		join := func(name string) *websocket.Conn {
			c := dialWS(t, ctx, srv.URL+"/ws/chat")
			if err := c.Write(ctx, websocket.MessageText, []byte(name+" here")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.Read(ctx); err != nil || string(got) != name+" here" {
				t.Fatalf("%s read %q %v", name, got, err)
			}
			return c
		}
		a := join("a")
		b := join("b")
		if _, got, err := a.Read(ctx); err != nil || string(got) != "b here" {
			t.Fatalf("a read %q %v, want b's message", got, err)
		}
		if err := a.Write(ctx, websocket.MessageText, []byte("hi all")); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]*websocket.Conn{"a": a, "b": b} {
			if _, got, err := c.Read(ctx); err != nil || string(got) != "hi all" {
				t.Errorf("%s read %q %v, want a's message", name, got, err)
			}
		}
	})
}
