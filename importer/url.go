package importer

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// target is a request URL split the way a plan wants it.
type target struct {
	origin string // scheme://host[:port] for base_url; "" when the host is a template
	path   string // /path?query (marked text); the whole URL when origin is ""
	user   string // decoded userinfo ("user:pass"), "" if none
}

// splitURL splits an absolute URL (or host/path, taken as http://, as curl
// does) into origin and path. The fragment is dropped (clients never send
// it); bytes a request line cannot carry as they are (spaces, controls,
// non-ASCII, a % that starts no escape) are percent-encoded.
func splitURL(raw string) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, fmt.Errorf("empty URL")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
		// A browser never sends one; a plan refuses it (a NUL or a line
		// break could split the request line).
		return target{}, fmt.Errorf("URL %q: control character %q", clip(raw), s[i])
	}
	if strings.HasPrefix(s, string(markOpen)) {
		// "$API/users": the variable holds the scheme and host.
		return target{path: cleanURLPart(cutFragment(s))}, nil
	}
	scheme, rest := "http", s
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = strings.ToLower(s[:i]), s[i+3:]
	}
	if scheme != "http" && scheme != "https" {
		return target{}, fmt.Errorf("URL %q: scheme %q: want http or https", clip(raw), clip(scheme))
	}
	auth, pathq := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth, pathq = rest[:i], rest[i:]
	}
	pathq = cutFragment(pathq)
	if pathq == "" || pathq[0] == '?' {
		pathq = "/" + pathq
	}
	var t target
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		t.user, auth = auth[:i], auth[i+1:]
		if u, err := url.PathUnescape(t.user); err == nil {
			t.user = u
		}
	}
	if hasRef(auth) {
		t.path = scheme + "://" + auth + cleanURLPart(pathq)
		return t, nil
	}
	u, err := url.Parse(scheme + "://" + auth)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return target{}, fmt.Errorf("URL %q: bad or missing host", clip(raw))
	}
	t.origin = scheme + "://" + u.Host
	t.path = oneSlash(cleanURLPart(pathq))
	return t, nil
}

// oneSlash makes a path that starts with "//" (which would read as
// //host/path) start with one slash.
func oneSlash(p string) string {
	if strings.HasPrefix(p, "//") {
		return "/" + strings.TrimLeft(p, "/")
	}
	return p
}

func cutFragment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// cleanURLPart percent-encodes what a request target cannot hold as is,
// leaving marked template expressions alone.
func cleanURLPart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if n := markedLen(s[i:]); n > 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		switch {
		case r == markOpen || r == markClose:
			b.WriteString(s[i : i+n])
		case c == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])):
			b.WriteString("%25")
		case c <= ' ' || c >= 0x7f:
			for _, x := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", x)
			}
		default:
			b.WriteByte(c)
		}
		i += n
	}
	return b.String()
}

// mediaType is the lower-cased type/subtype of a Content-Type value.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

func isJSONType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

const formType = "application/x-www-form-urlencoded"

// parseForm reads an application/x-www-form-urlencoded body into ordered
// pairs. ok is false when the pairs would not say the same thing as the
// text: a part without "=", an empty or repeated name, a name with a
// template, bad escapes or bytes that are not UTF-8.
func parseForm(s string) (pairs []kv, ok bool) {
	if s == "" {
		return nil, false
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, "&") {
		k, v, found := strings.Cut(part, "=")
		if !found {
			return nil, false
		}
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || key == "" || seen[key] || hasRef(key) || !utf8.ValidString(key) || !utf8.ValidString(val) {
			return nil, false
		}
		seen[key] = true
		pairs = append(pairs, kv{k: key, v: val})
	}
	return pairs, true
}

// isToken reports whether s is an HTTP token, the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}

// clip shortens s for a message.
func clip(s string) string {
	const most = 80
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}

// origin is scheme://host[:port] of an absolute URL, or "".
func origin(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

// markedLen is the length of the marked expression s starts with, or 0.
func markedLen(s string) int {
	if !strings.HasPrefix(s, string(markOpen)) {
		return 0
	}
	if j := strings.IndexRune(s, markClose); j >= 0 {
		return j + len(string(markClose))
	}
	return 0
}
