package monitor

import (
	"bufio"
	"maps"
	"net"
	"strings"
	"testing"
	"time"
)

// redisInfoClients is INFO clients from redis-server 7.0, as sent (CRLF).
const redisInfoClients = "# Clients\r\nconnected_clients:5\r\ncluster_connections:0\r\nmaxclients:10000\r\n" +
	"client_recent_max_input_buffer:20480\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:2\r\n" +
	"tracking_clients:0\r\nclients_in_timeout_table:2\r\n"

func TestRedisParseInfo(t *testing.T) {
	tests := []struct {
		name string
		text string
		want map[string]string
	}{
		{
			name: "clients section",
			text: redisInfoClients,
			want: map[string]string{
				"connected_clients": "5", "cluster_connections": "0", "maxclients": "10000",
				"client_recent_max_input_buffer": "20480", "client_recent_max_output_buffer": "0",
				"blocked_clients": "2", "tracking_clients": "0", "clients_in_timeout_table": "2",
			},
		},
		{
			name: "two sections, LF only, no final newline",
			text: "# Stats\ntotal_commands_processed:1234\ninstantaneous_ops_per_sec:17\n\n# Memory\nused_memory:1015960\nused_memory_human:992.15K",
			want: map[string]string{
				"total_commands_processed": "1234", "instantaneous_ops_per_sec": "17",
				"used_memory": "1015960", "used_memory_human": "992.15K",
			},
		},
		{
			name: "values with colons and commas",
			text: "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\nexecutable:/usr/bin/redis-server\r\n",
			want: map[string]string{"db0": "keys=1,expires=0,avg_ttl=0", "executable": "/usr/bin/redis-server"},
		},
		{name: "empty", text: "", want: map[string]string{}},
		{name: "no key-value lines", text: "# Clients\r\n\r\nnonsense\r\n:no key\r\n", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseInfo(tt.text); !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRedisReadBulk(t *testing.T) {
	tests := []struct {
		name, reply, want, wantErr string
	}{
		{name: "bulk", reply: "$5\r\nhello\r\n", want: "hello"},
		{name: "empty bulk", reply: "$0\r\n\r\n", want: ""},
		{name: "bulk with CRLF inside", reply: "$4\r\na\r\nb\r\n", want: "a\r\nb"},
		{name: "error reply", reply: "-NOAUTH Authentication required.\r\n", wantErr: "NOAUTH Authentication required."},
		{name: "null bulk", reply: "$-1\r\n", wantErr: "bulk length \"-1\""},
		{name: "too long", reply: "$99999999999\r\n", wantErr: "bulk length"},
		{name: "simple string", reply: "+OK\r\n", wantErr: "want a bulk string"},
		{name: "short", reply: "$5\r\nhel", wantErr: "EOF"},
		{name: "no CRLF after bulk", reply: "$2\r\nhello\r\n", wantErr: "not ended by CRLF"},
		{name: "LF only", reply: "$2\nhi\n", wantErr: "not ended by CRLF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBulk(bufio.NewReader(strings.NewReader(tt.reply)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRedisAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "INFO", "clients"))
	if want := "*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzRedisInfo(f *testing.F) {
	f.Add(redisInfoClients)
	f.Add("a:b\nc\n#d:e\r\n:f\n")
	f.Add("\r:")
	f.Fuzz(func(t *testing.T, text string) {
		for k := range parseInfo(text) {
			if k == "" || strings.Contains(k, "\n") || strings.HasPrefix(k, "#") {
				t.Fatalf("key %q from %q", k, text)
			}
		}
	})
}

func FuzzRedisReadBulk(f *testing.F) {
	f.Add("$5\r\nhello\r\n")
	f.Add("-ERR x\r\n")
	f.Add("$-1\r\n")
	f.Fuzz(func(t *testing.T, reply string) {
		got, err := readBulk(bufio.NewReader(strings.NewReader(reply)))
		if err == nil && len(got) > len(reply) {
			t.Fatalf("read %d bytes from a %d-byte reply", len(got), len(reply))
		}
	})
}

func TestNewRedis(t *testing.T) {
	for _, tt := range []struct{ addr, wantAddr, wantUser, wantPass string }{
		{"127.0.0.1:6379", "127.0.0.1:6379", "", ""},
		{"[::1]:6380", "[::1]:6380", "", ""},
		{"redis://cache.internal", "cache.internal:6379", "", ""},
		{"redis://:s3cret@127.0.0.1:7000/0", "127.0.0.1:7000", "", "s3cret"},
		{"redis://mon:pw@127.0.0.1:7000", "127.0.0.1:7000", "mon", "pw"},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			s, err := NewRedis(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			r := s.(*redisSampler)
			if r.addr != tt.wantAddr || r.user != tt.wantUser || r.password != tt.wantPass {
				t.Errorf("got %q %q %q, want %q %q %q", r.addr, r.user, r.password, tt.wantAddr, tt.wantUser, tt.wantPass)
			}
		})
	}
}

func TestNewRedisRejects(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1", ":6379", "127.0.0.1:0", "127.0.0.1:http", "rediss://127.0.0.1:6379", "http://127.0.0.1", "redis://"} {
		t.Run(addr, func(t *testing.T) {
			if _, err := NewRedis(addr); err == nil || !strings.HasPrefix(err.Error(), "redis: ") {
				t.Errorf("NewRedis(%q) err = %v, want a redis: error", addr, err)
			}
		})
	}
}

func TestRedisClientsOfARealServer(t *testing.T) {
	addr := startRedis(t)
	s, err := NewRedis(addr)
	if err != nil {
		t.Fatal(err)
	}
	r := s.(*redisSampler)
	t.Cleanup(func() { r.Close() })
	r.now = fakeClock(time.Second)

	// The sampler's own connection is the only client once the start-up
	// check's has gone.
	before := sampleUntil(t, s, "1 client", func(m map[string]float64) bool { return m["redis.connected_clients"] == 1 })
	for _, name := range []string{"redis.connected_clients", "redis.blocked_clients", "redis.ops_per_s", "redis.used_memory_bytes", "redis.rejected_connections"} {
		if _, ok := before[name]; !ok {
			t.Errorf("no %s: %v", name, before)
		}
	}
	// startRedis's servers have no maxmemory: 0, no limit.
	if got, ok := before["redis.maxmemory_bytes"]; !ok || got != 0 {
		t.Errorf("redis.maxmemory_bytes = %v (present %v), want 0 (no limit)", got, ok)
	}
	if before["redis.used_memory_bytes"] < 100_000 {
		t.Errorf("redis.used_memory_bytes = %v, want a real server's (hundreds of kB)", before["redis.used_memory_bytes"])
	}

	const clients = 4
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, reply, err := redisPing(t.Context(), addr)
		if err != nil || reply != "+PONG" {
			t.Fatalf("client %d: PING: %q, %v", i, reply, err)
		}
		conns[i] = c
		t.Cleanup(func() { c.Close() })
	}
	after := mustSample(t, s)
	if d := after["redis.connected_clients"] - before["redis.connected_clients"]; d != clients {
		t.Errorf("redis.connected_clients rose by %v (%v -> %v), want %d", d, before["redis.connected_clients"], after["redis.connected_clients"], clients)
	}
	// At least the four clients' PINGs, in one second of the sampler's clock.
	if got, ok := after["redis.commands_per_s"]; !ok || got < clients {
		t.Errorf("redis.commands_per_s = %v (present %v), want >= %d", got, ok, clients)
	}

	for _, c := range conns {
		c.Close()
	}
	sampleUntil(t, s, "back to 1 client", func(m map[string]float64) bool { return m["redis.connected_clients"] == 1 })
}

func TestRedisAuth(t *testing.T) {
	addr := startRedis(t, "--requirepass", "s3cret")
	for _, tt := range []struct{ addr, wantErr string }{
		{"redis://:s3cret@" + addr, ""},
		{"redis://default:s3cret@" + addr, ""},
		{"redis://:not-it@" + addr, "AUTH: WRONGPASS"},
		{addr, "NOAUTH"},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			s, err := NewRedis(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer s.(*redisSampler).Close()
			ctx, cancel := contextFor(t)
			defer cancel()
			vs, err := s.Sample(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "not-it") || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil || len(vs) == 0 {
				t.Fatalf("got %v, %v", vs, err)
			}
		})
	}
}

func TestRedisRedialsAfterAnError(t *testing.T) {
	addr := startRedis(t)
	s, err := NewRedis(addr)
	if err != nil {
		t.Fatal(err)
	}
	r := s.(*redisSampler)
	t.Cleanup(func() { r.Close() })
	mustSample(t, s)
	r.conn.Close() // as if the server had dropped it
	ctx, cancel := contextFor(t)
	defer cancel()
	if _, err := s.Sample(ctx); err == nil {
		t.Fatal("sample on a closed connection succeeded")
	}
	mustSample(t, s)
}

func TestRedisMaxmemory(t *testing.T) {
	addr := startRedis(t, "--maxmemory", "10mb")
	s, err := NewRedis(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(*redisSampler).Close() })
	if got := mustSample(t, s)["redis.maxmemory_bytes"]; got != 10<<20 {
		t.Errorf("redis.maxmemory_bytes = %v, want %d (--maxmemory 10mb)", got, 10<<20)
	}
}
