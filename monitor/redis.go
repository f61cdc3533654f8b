package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Redis samples a Redis server's INFO clients, stats and memory sections
// into the series redis.connected_clients, redis.blocked_clients,
// redis.ops_per_s (Redis's own instantaneous_ops_per_sec), redis.used_memory_bytes,
// redis.maxmemory_bytes (the maxmemory setting; 0 is no limit),
// redis.rejected_connections (a count since the server started) and
// redis.commands_per_s (the rate of total_commands_processed since the
// previous sample, so none on the first).
//
// It speaks RESP itself over one connection that it keeps open between
// samples (and counts, as one of redis.connected_clients) and redials after
// an error. Three INFO commands are all it sends, and a dozen lines of RESP
// read their replies; a client library such as go-redis would bring a
// connection pool, retries and a dependency tree to do the same.
type redisSampler struct {
	addr     string // host:port
	user     string // AUTH user, "" for the default user
	password string // AUTH password, "" for none
	now      func() time.Time

	mu    sync.Mutex // Sample and Close may race
	conn  net.Conn
	rd    *bufio.Reader
	rates counterRates
}

var _ Sampler = (*redisSampler)(nil)

// NewRedis returns a Sampler of the Redis server at addr, either "host:port"
// or "redis://[[user]:password@]host[:port]" (port 6379 by default).
// TLS (rediss://) is not supported.
func NewRedis(addr string) (Sampler, error) {
	r := &redisSampler{now: time.Now}
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return nil, fmt.Errorf("redis: address %q: %w", addr, err)
		}
		if u.Scheme != "redis" {
			return nil, fmt.Errorf("redis: address %q: want host:port or redis://host:port (%s:// is not supported)", addr, u.Scheme)
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("redis: address %q: no host", addr)
		}
		port := u.Port()
		if port == "" {
			port = "6379"
		}
		r.addr = net.JoinHostPort(u.Hostname(), port)
		if u.User != nil {
			r.user = u.User.Username()
			r.password, _ = u.User.Password()
		}
	} else {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("redis: address %q: want host:port: %w", addr, err)
		}
		if host == "" {
			return nil, fmt.Errorf("redis: address %q: no host", addr)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("redis: address %q: bad port %q", addr, port)
		}
		r.addr = addr
	}
	return r, nil
}

func (r *redisSampler) Name() string { return "redis" }

// Close closes the sampler's connection.
func (r *redisSampler) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drop()
}

func (r *redisSampler) drop() error {
	if r.conn == nil {
		return nil
	}
	err := r.conn.Close()
	r.conn, r.rd = nil, nil
	return err
}

func (r *redisSampler) Sample(ctx context.Context) ([]Value, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, err := r.info(ctx)
	if err != nil {
		r.drop() // the connection is in an unknown state: start afresh next time
		return nil, fmt.Errorf("redis %s: %w", r.addr, err)
	}
	at := r.now()
	var vs []Value
	for _, f := range []struct{ key, series string }{
		{"connected_clients", "redis.connected_clients"},
		{"blocked_clients", "redis.blocked_clients"},
		{"instantaneous_ops_per_sec", "redis.ops_per_s"},
		{"used_memory", "redis.used_memory_bytes"},
		{"maxmemory", "redis.maxmemory_bytes"},
		{"rejected_connections", "redis.rejected_connections"},
	} {
		if v, ok := infoNumber(info, f.key); ok {
			vs = append(vs, Value{f.series, v})
		}
	}
	counters := map[string]float64{}
	if v, ok := infoNumber(info, "total_commands_processed"); ok {
		counters["redis.commands_per_s"] = v
	}
	if len(vs) == 0 && len(counters) == 0 {
		return nil, errors.New("INFO replied with none of the expected fields")
	}
	return appendByName(vs, r.rates.next(at, counters)), nil
}

// info sends INFO clients, INFO stats and INFO memory in one write (three
// commands, as a Redis older than 7 takes one section per INFO) and merges
// the three replies.
func (r *redisSampler) info(ctx context.Context) (map[string]string, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	if r.conn == nil {
		d := net.Dialer{Deadline: deadline}
		c, err := d.DialContext(ctx, "tcp", r.addr)
		if err != nil {
			return nil, err
		}
		r.conn, r.rd = c, bufio.NewReader(c)
		if r.password != "" {
			if err := r.auth(deadline); err != nil {
				return nil, err
			}
		}
	}
	if err := r.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	sections := []string{"clients", "stats", "memory"}
	var req []byte
	for _, s := range sections {
		req = appendCommand(req, "INFO", s)
	}
	if _, err := r.conn.Write(req); err != nil {
		return nil, err
	}
	info := map[string]string{}
	for range sections {
		text, err := readBulk(r.rd)
		if err != nil {
			return nil, fmt.Errorf("INFO: %w", err)
		}
		for k, v := range parseInfo(text) {
			info[k] = v
		}
	}
	return info, nil
}

func (r *redisSampler) auth(deadline time.Time) error {
	if err := r.conn.SetDeadline(deadline); err != nil {
		return err
	}
	args := []string{"AUTH", r.password}
	if r.user != "" {
		args = []string{"AUTH", r.user, r.password}
	}
	if _, err := r.conn.Write(appendCommand(nil, args...)); err != nil {
		return err
	}
	line, err := readLine(r.rd)
	if err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	if line != "+OK" {
		return fmt.Errorf("AUTH: %s", strings.TrimPrefix(line, "-"))
	}
	return nil
}

// appendCommand appends a RESP array of bulk strings: one command.
func appendCommand(b []byte, args ...string) []byte {
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// readLine reads one CRLF-terminated RESP line, without the CRLF.
func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("protocol error: line %q not ended by CRLF", line)
	}
	return line[:len(line)-2], nil
}

// maxInfoBytes bounds an INFO reply; a real one is a few kilobytes.
const maxInfoBytes = 1 << 20

// readBulk reads a RESP bulk string ("$N\r\n" N bytes "\r\n"), the reply
// to INFO; an error reply ("-ERR ...") becomes an error.
func readBulk(rd *bufio.Reader) (string, error) {
	line, err := readLine(rd)
	if err != nil {
		return "", err
	}
	if line == "" {
		return "", errors.New("protocol error: empty reply")
	}
	switch line[0] {
	case '-':
		return "", errors.New(line[1:]) // e.g. "NOAUTH Authentication required."
	case '$':
	default:
		return "", fmt.Errorf("protocol error: want a bulk string, got %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > maxInfoBytes {
		return "", fmt.Errorf("protocol error: bulk length %q", line[1:])
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return "", err
	}
	if string(buf[n:]) != "\r\n" {
		return "", errors.New("protocol error: bulk string not ended by CRLF")
	}
	return string(buf[:n]), nil
}

// parseInfo reads INFO's "key:value" lines; "# Section" headers and blank
// lines are skipped.
func parseInfo(text string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// infoNumber returns INFO's field key as a number, if it is there and one.
func infoNumber(info map[string]string, key string) (float64, bool) {
	s, ok := info[key]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
