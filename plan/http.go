package plan

import (
	"fmt"
	"mime"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fuka-load/fuka/client"
)

// What a plan says about HTTP beyond a request's method, URL, headers and
// body: multipart bodies, redirects, the HTTP version and TLS.

// StepHTTP is a request step's HTTP options (embedded in Step).
type StepHTTP struct {
	// Multipart is a multipart/form-data body (one of the bodies).
	Multipart *Multipart
	// FollowRedirects, when set, is how many redirects the step follows
	// (0: none), overriding defaults. Each hop is a request of its own in
	// the results.
	FollowRedirects    *int
	FollowRedirectsPos Pos
}

// DefaultsHTTP is the plan's HTTP options (embedded in Defaults).
type DefaultsHTTP struct {
	// FollowRedirects is how many redirects a request follows; 0 (the
	// default): none, a 3xx is the response.
	FollowRedirects int
	// HTTPVersion forces a version: "1.1" or "2" (h2c with prior knowledge
	// over http://); "" negotiates h2 by ALPN on https, HTTP/1.1 on http.
	HTTPVersion string
	TLS         *TLSFiles
}

// MaxRedirects bounds follow_redirects: a redirect loop costs at most this
// many requests more than the step's own.
const MaxRedirects = 20

// MaxTLSFile bounds a certificate, key or CA file.
const MaxTLSFile = 1 << 20

// Multipart is a multipart/form-data body: its fields and files in file
// order.
type Multipart struct {
	Parts []MultipartPart
	Pos   Pos
}

// MultipartPart is one field (Value, a template) or one file (File, read by
// Parse into Data, sent as is).
type MultipartPart struct {
	Name        string
	Value       *String // a field
	File        String  // a file: its path, relative to the plan file
	FileName    string  // the file name sent; default: File's base name
	ContentType string  // a file's; default: by its extension, else application/octet-stream
	Data        []byte  // File's content, read once (at most MaxBodyFile bytes in all)
	Pos         Pos
}

// TLSFiles are the client certificate, its key and the CA to trust
// (paths relative to the plan file), each read by Parse; TLS is what they
// make.
type TLSFiles struct {
	Cert, Key, CA String
	TLS           *client.TLS
	Pos           Pos
}

// RedirectsOf is how many redirects the request step st follows.
func (p *Plan) RedirectsOf(st *Step) int {
	if st.FollowRedirects != nil {
		return *st.FollowRedirects
	}
	return p.Defaults.FollowRedirects
}

// redirects reads a redirect bound: an integer from 0 to MaxRedirects.
func (ps *parser) redirects(n *yaml.Node) (int, bool) {
	r, ok := ps.integer("follow_redirects", n)
	if ok && (r < 0 || r > MaxRedirects) {
		ps.errorf(n, "follow_redirects: want 0 to %d, got %d", MaxRedirects, r)
		return 0, false
	}
	return r, ok
}

var httpVersions = []string{"1.1", "2"}

// defaultsHTTP reads the HTTP keys of defaults; it reports whether key is one.
func (ps *parser) defaultsHTTP(e entry, d *DefaultsHTTP) bool {
	switch e.Key {
	case "follow_redirects":
		d.FollowRedirects, _ = ps.redirects(e.V)
	case "http_version":
		if e.V.Kind != yaml.ScalarNode || !slices.Contains(httpVersions, e.V.Value) {
			ps.errorf(e.V, "http_version: want 1.1 or 2, got %s", describe(e.V))
			return true
		}
		d.HTTPVersion = e.V.Value
	case "tls":
		d.TLS = ps.tlsFiles(e.V)
	default:
		return false
	}
	return true
}

var tlsKeys = []string{"cert", "key", "ca"}

// tlsFiles reads `tls: {cert: FILE, key: FILE, ca: FILE}` and checks that
// the files make a certificate and a CA pool.
func (ps *parser) tlsFiles(n *yaml.Node) *TLSFiles {
	es, ok := ps.mapping(n, "tls")
	if !ok {
		return nil
	}
	t := &TLSFiles{Pos: ps.pos(n)}
	var data [3][]byte
	good := true
	for _, e := range es {
		i := slices.Index(tlsKeys, e.Key)
		if i < 0 {
			ps.unknown(e, "tls", tlsKeys)
			good = false
			continue
		}
		s, ok := ps.nonEmpty("tls: "+e.Key, e.V)
		if !ok || !ps.fileExists(s, "tls: "+e.Key) {
			good = false
			continue
		}
		*[]*String{&t.Cert, &t.Key, &t.CA}[i] = s
		b, err := readLimited(resolve(ps.file, s.Value), MaxTLSFile)
		if err != nil {
			ps.errorAt(s.Pos, "tls: %s %q: %v", e.Key, clip(s.Value), pathErr(err))
			good = false
			continue
		}
		data[i] = b
	}
	if !good {
		return t
	}
	tc, err := client.LoadTLS(data[0], data[1], data[2])
	if err != nil {
		ps.errorf(n, "tls: %v", err)
		return t
	}
	t.TLS = tc
	return t
}

// multipart reads `multipart: {field: value, file: {path: a.png,
// content_type: image/png, filename: b.png}}`.
func (ps *parser) multipart(n *yaml.Node) *Multipart {
	es, ok := ps.mapping(n, "multipart")
	if !ok {
		return nil
	}
	if len(es) == 0 {
		ps.errorf(n, "multipart: want at least one field or file")
	}
	m := &Multipart{Pos: ps.pos(n)}
	var total int64
	for _, e := range es {
		if e.Key == "" {
			ps.errorf(e.K, "multipart: empty name")
			continue
		}
		if strings.ContainsAny(e.Key, "\"\r\n") {
			ps.errorf(e.K, "multipart: name %q: must not hold a quote or a line break", clip(e.Key))
			continue
		}
		p := MultipartPart{Name: e.Key, Pos: ps.pos(e.K)}
		if e.V.Kind != yaml.MappingNode {
			s, ok := ps.str(fmt.Sprintf("multipart %q", e.Key), e.V)
			if !ok {
				continue
			}
			p.Value = &s
			m.Parts = append(m.Parts, p)
			continue
		}
		if !ps.multipartFile(e, &p) {
			continue
		}
		total += int64(len(p.Data))
		if total > MaxBodyFile {
			ps.errorAt(p.File.Pos, "multipart: the files add up to %v", &ErrTooLarge{Limit: MaxBodyFile})
			continue
		}
		m.Parts = append(m.Parts, p)
	}
	return m
}

var multipartFileKeys = []string{"path", "content_type", "filename"}

// multipartFile reads one file part and the file.
func (ps *parser) multipartFile(e entry, p *MultipartPart) bool {
	what := fmt.Sprintf("multipart %q", e.Key)
	fs, _ := ps.mapping(e.V, what)
	for _, f := range fs {
		switch f.Key {
		case "path":
			if s, ok := ps.nonEmpty(what+": path", f.V); ok {
				p.File = s
			}
		case "content_type":
			if s, ok := ps.nonEmpty(what+": content_type", f.V); ok {
				if _, _, err := mime.ParseMediaType(s.Value); err != nil {
					ps.errorf(f.V, "%s: content_type %q: %v", what, clip(s.Value), err)
					continue
				}
				p.ContentType = s.Value
			}
		case "filename":
			if s, ok := ps.nonEmpty(what+": filename", f.V); ok {
				if strings.ContainsAny(s.Value, "\"\r\n") {
					ps.errorf(f.V, "%s: filename %q: must not hold a quote or a line break", what, clip(s.Value))
					continue
				}
				p.FileName = s.Value
			}
		default:
			ps.unknown(f, what, multipartFileKeys)
		}
	}
	if p.File.Value == "" {
		ps.errorf(e.V, "%s: a file part needs path:", what)
		return false
	}
	if !ps.fileExists(p.File, what+": file") {
		return false
	}
	b, err := ReadBodyFile(resolve(ps.file, p.File.Value))
	if err != nil {
		ps.errorAt(p.File.Pos, "%s: file %q: %v", what, clip(p.File.Value), pathErr(err))
		return false
	}
	p.Data = b
	if p.FileName == "" {
		p.FileName = filepath.Base(p.File.Value)
	}
	if p.ContentType == "" {
		p.ContentType = mime.TypeByExtension(filepath.Ext(p.FileName))
		if p.ContentType == "" {
			p.ContentType = "application/octet-stream"
		}
	}
	return true
}

// httpStepErrors checks a request step's HTTP options in a Plan built in
// code (Validate).
func httpStepErrors(c *collector, st *Step) {
	if r := st.FollowRedirects; r != nil && (*r < 0 || *r > MaxRedirects) {
		c.add(st.FollowRedirectsPos, "follow_redirects: want 0 to %d, got %d", MaxRedirects, *r)
	}
	if m := st.Multipart; m != nil {
		for _, p := range m.Parts {
			if (p.Value == nil) == (p.File.Value == "" && p.Data == nil) {
				c.add(p.Pos, "multipart %q: want a value or a file", p.Name)
			}
		}
	}
}

// httpDefaultsErrors checks the plan's HTTP defaults (Validate).
func httpDefaultsErrors(c *collector, p *Plan) {
	d := p.Defaults.DefaultsHTTP
	if d.FollowRedirects < 0 || d.FollowRedirects > MaxRedirects {
		c.add(p.Pos, "defaults: follow_redirects: want 0 to %d, got %d", MaxRedirects, d.FollowRedirects)
	}
	if d.HTTPVersion != "" && !slices.Contains(httpVersions, d.HTTPVersion) {
		c.add(p.Pos, "defaults: http_version: want 1.1 or 2, got %q", d.HTTPVersion)
	}
}

// ReadTLSFile reads a certificate, key or CA file of at most MaxTLSFile
// bytes.
func ReadTLSFile(path string) ([]byte, error) { return readLimited(path, MaxTLSFile) }
