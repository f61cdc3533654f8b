package scenario

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// loopJar is an event-loop client's cookie jar: what net/http/cookiejar
// does for one plain-http host, without a map or an allocation per
// request when the server sets no cookie. Cookies are kept by name and
// path; a Set-Cookie with Max-Age=0 or an Expires in the past deletes one;
// each request carries the cookies whose path matches its own, longest
// path first, then oldest first, as cookiejar orders them. Every request
// here is plain http: a Secure cookie is kept but sent only to localhost
// or a loopback address, which cookiejar (like browsers) takes for a
// secure origin.
type loopJar struct {
	host    string // lower case, no port
	cookies []jarCookie
	seq     int64
}

type jarCookie struct {
	name, value, path string
	quoted, secure    bool
	expires           time.Time // zero: a session cookie
	seq               int64     // creation order
}

// store takes the Set-Cookie lines of a response's header lines head, for
// a request to path.
func (j *loopJar) store(head []byte, path []byte) {
	var now time.Time
	for at := 0; ; {
		line, next := nextHeader(head, "Set-Cookie", at)
		if next < 0 {
			return
		}
		at = next
		ck, err := http.ParseSetCookie(string(line))
		if err != nil {
			continue
		}
		if d := strings.ToLower(strings.TrimPrefix(ck.Domain, ".")); d != "" && d != j.host &&
			(net.ParseIP(j.host) != nil || !strings.HasSuffix(j.host, "."+d)) {
			// The loops talk to one host: a cookie for another domain is
			// refused, as cookiejar refuses it; one for this host or a
			// parent domain of it is this host's.
			continue
		}
		if now.IsZero() {
			now = time.Now()
		}
		p := ck.Path
		if p == "" || p[0] != '/' {
			p = defaultPath(path)
		}
		i := j.find(ck.Name, p)
		switch {
		case ck.MaxAge < 0 || ck.MaxAge == 0 && !ck.Expires.IsZero() && !ck.Expires.After(now):
			if i >= 0 {
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			}
			continue
		}
		e := jarCookie{name: ck.Name, value: ck.Value, path: p, quoted: ck.Quoted, secure: ck.Secure}
		if ck.MaxAge > 0 {
			e.expires = now.Add(time.Duration(ck.MaxAge) * time.Second)
		} else if !ck.Expires.IsZero() {
			e.expires = ck.Expires
		}
		if i >= 0 {
			e.seq = j.cookies[i].seq
			j.cookies[i] = e
			continue
		}
		e.seq = j.seq
		j.seq++
		j.cookies = append(j.cookies, e)
	}
}

func (j *loopJar) find(name, path string) int {
	for i := range j.cookies {
		if j.cookies[i].name == name && j.cookies[i].path == path {
			return i
		}
	}
	return -1
}

// defaultPath is a cookie's path when Set-Cookie gives none (RFC 6265
// 5.1.4): the request path up to its last slash.
func defaultPath(p []byte) string {
	i := strings.LastIndexByte(string(p), '/')
	if len(p) == 0 || p[0] != '/' || i <= 0 {
		return "/"
	}
	return string(p[:i])
}

// pathMatch reports whether a request to path gets a cookie of cookie path
// cp (RFC 6265 5.1.4).
func pathMatch(path []byte, cp string) bool {
	if !strings.HasPrefix(view(path), cp) {
		return false
	}
	return len(path) == len(cp) || cp[len(cp)-1] == '/' || path[len(cp)] == '/'
}

// appendCookies appends "a=1; b=2", the cookies a request to path
// carries, to dst; after says dst already holds a value (a Cookie header
// the step set), which they then follow after "; ".
func (j *loopJar) appendCookies(dst []byte, path []byte, after bool) []byte {
	if len(j.cookies) == 0 {
		return dst
	}
	var now time.Time
	for i := 0; i < len(j.cookies); {
		if e := j.cookies[i].expires; !e.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			if !e.After(now) {
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
				continue
			}
		}
		i++
	}
	j.sort()
	for i := range j.cookies {
		e := &j.cookies[i]
		if !pathMatch(path, e.path) || e.secure && !secureOrigin(j.host) {
			continue
		}
		if after {
			dst = append(dst, "; "...)
		}
		after = true
		dst = append(append(dst, e.name...), '=')
		if e.quoted {
			dst = append(append(append(dst, '"'), e.value...), '"')
		} else {
			dst = append(dst, e.value...)
		}
	}
	return dst
}

// sort orders the cookies longest path first, then oldest first (few
// cookies: an insertion sort, no allocation).
func (j *loopJar) sort() {
	c := j.cookies
	for i := 1; i < len(c); i++ {
		for k := i; k > 0 && less(&c[k], &c[k-1]); k-- {
			c[k], c[k-1] = c[k-1], c[k]
		}
	}
}

func less(a, b *jarCookie) bool {
	if len(a.path) != len(b.path) {
		return len(a.path) > len(b.path)
	}
	return a.seq < b.seq
}

// secureOrigin reports whether plain http to host counts as a secure
// origin: localhost, a name under .localhost, or a loopback address.
func secureOrigin(host string) bool {
	h := strings.TrimSuffix(host, ".")
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		h = h[i+1:]
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
