package scenario

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

// multipartBody is a multipart/form-data body: literal bytes (part headers,
// files, boundaries) around the fields' templates. lits[i] comes before
// vals[i]; there is one more literal than values.
type multipartBody struct {
	lits [][]byte
	vals []*tmpl.Template
}

// multipart compiles a multipart: body and returns it with its
// Content-Type. The boundary is random, drawn again in the rare case a file
// holds it; a field's rendered value is as unlikely to.
func (c *compiler) multipart(m *plan.Multipart) (*multipartBody, string) {
	boundary := newBoundary()
	for i := 0; i < 8 && holds(m, boundary); i++ {
		boundary = newBoundary()
	}
	mb := &multipartBody{}
	var lit bytes.Buffer
	for _, p := range m.Parts {
		lit.WriteString("--" + boundary + "\r\n")
		if p.Value != nil {
			lit.WriteString(`Content-Disposition: form-data; name="` + p.Name + "\"\r\n\r\n")
			t := c.tmplAt(*p.Value)
			if t == nil {
				continue // the error is recorded
			}
			mb.lits = append(mb.lits, bytes.Clone(lit.Bytes()))
			mb.vals = append(mb.vals, t)
			lit.Reset()
			lit.WriteString("\r\n")
			continue
		}
		lit.WriteString(`Content-Disposition: form-data; name="` + p.Name + `"; filename="` + p.FileName + "\"\r\n")
		lit.WriteString("Content-Type: " + p.ContentType + "\r\n\r\n")
		lit.Write(p.Data)
		lit.WriteString("\r\n")
	}
	lit.WriteString("--" + boundary + "--\r\n")
	mb.lits = append(mb.lits, bytes.Clone(lit.Bytes()))
	return mb, "multipart/form-data; boundary=" + boundary
}

// holds reports whether a file of m contains boundary.
func holds(m *plan.Multipart, boundary string) bool {
	for _, p := range m.Parts {
		if bytes.Contains(p.Data, []byte(boundary)) {
			return true
		}
	}
	return false
}

func newBoundary() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "fuka" + hex.EncodeToString(b[:])
}

// render appends the body to dst.
func (m *multipartBody) render(dst []byte, st *tmpl.State) []byte {
	for i, t := range m.vals {
		dst = append(dst, m.lits[i]...)
		dst = t.Render(dst, st)
	}
	return append(dst, m.lits[len(m.vals)]...)
}

// redirectName is the name a step's followed redirects are recorded under:
// each hop is a request of its own, visible, and not mixed into the
// step's own figures.
func redirectName(name string) string { return name + " (redirect)" }

// hop is one request on the wire for a step: the step's own, or a
// redirect it follows; req is the name index it is recorded under.
type hop struct {
	method, url, contentType string
	body                     []byte
	req                      int
}

// follow follows the redirects of a step's response r (up to s.redirects),
// each hop sent and recorded as a request of its own under the step's
// redirect name, and returns the last response: the first that is not a
// redirect to follow, or the last 3xx when the bound is reached (a redirect
// loop costs s.redirects requests more, no more). A hop that gets no
// response ends the step with none (nil); hops are not retried.
func (c *Client) follow(ctx context.Context, s *step, h hop, r *Response) *Response {
	for n := 0; n < s.redirects && ctx.Err() == nil; n++ {
		next, ok := nextHop(h, r)
		if !ok {
			return r
		}
		h = next
		h.req = s.redirReq
		if r, _ = c.send(s, h, time.Time{}, false); r == nil {
			return nil
		}
	}
	return r
}

// nextHop returns the request a redirect response asks for, or ok false
// when it is not followed: not a redirect, no usable Location, or another
// host (a load test goes where it is pointed: fuka never follows a
// redirect off the host the step named). 301, 302 and 303 turn a request
// other than GET or HEAD into a GET without a body, as browsers do; 307
// and 308 send the same method and body again.
func nextHop(h hop, r *Response) (hop, bool) {
	switch r.Status {
	case 301, 302, 303:
		if h.method != "GET" && h.method != "HEAD" {
			h.method, h.body, h.contentType = "GET", nil, ""
		}
	case 307, 308:
	default:
		return hop{}, false
	}
	loc := r.Header.Get("Location")
	cur, err := url.Parse(h.url)
	if loc == "" || err != nil {
		return hop{}, false
	}
	u, err := cur.Parse(client.FixedURL(loc))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Hostname(), cur.Hostname()) {
		return hop{}, false
	}
	u.Fragment, u.RawFragment = "", ""
	h.url = u.String()
	return h, true
}

// requestIndex is the metrics index of request name, added if new, counted
// in groups.
func (c *compiler) requestIndex(name string, groups []string) int {
	idx, ok := c.reqIndex[name]
	if !ok {
		idx = len(c.prog.Requests)
		c.reqIndex[name] = idx
		c.prog.Requests = append(c.prog.Requests, name)
	}
	for _, g := range groups {
		if g != "" {
			c.prog.Groups[g] = appendUnique(c.prog.Groups[g], idx)
		}
	}
	return idx
}

// protocol marks request name idx as one of protocol proto's (see
// Program.Protos), for the reports' wording.
func (c *compiler) protocol(idx int, proto string) {
	for len(c.prog.Protos) <= idx {
		c.prog.Protos = append(c.prog.Protos, "")
	}
	c.prog.Protos[idx] = proto
}

// httpDefaults takes the plan's http_version and tls for the transport.
func (c *compiler) httpDefaults() {
	d := c.p.Defaults.DefaultsHTTP
	c.prog.http1, c.prog.http2 = d.HTTPVersion == "1.1", d.HTTPVersion == "2"
	t := d.TLS
	if t == nil {
		return
	}
	if t.TLS != nil {
		c.prog.tls = t.TLS
		return
	}
	// A Plan built in code: read the files now.
	var data [3][]byte
	for i, f := range []plan.String{t.Cert, t.Key, t.CA} {
		if f.Value == "" {
			continue
		}
		b, err := plan.ReadBodyFile(c.p.Resolve(f.Value))
		if err != nil {
			c.errorf(f.Pos, "tls: %q: %v", f.Value, err)
			return
		}
		data[i] = b
	}
	tc, err := client.LoadTLS(data[0], data[1], data[2])
	if err != nil {
		c.errorf(t.Pos, "tls: %v", err)
		return
	}
	c.prog.tls = tc
}
