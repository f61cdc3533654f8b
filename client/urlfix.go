package client

// AppendFixedURL appends u to dst with every byte that may not appear in a
// URL's path or query percent-encoded, as a browser does: space, control
// characters (line breaks included), bytes beyond ASCII, the delimiters
// " < > \ ^ ` { | }, and a % that does not start an escape (%41). What is
// already valid, escapes and the delimiters / ? & = # included, is kept
// as is, so a template's value cannot put a raw space or line break on the
// request line: the server would answer 400 to every request, or read the
// rest as headers. The scheme and host of an absolute URL are left alone
// (a bad host fails when the URL is parsed).
func AppendFixedURL(dst, u []byte) []byte {
	start := pathStart(u)
	if !needsFix(u[start:]) {
		return append(dst, u...)
	}
	dst = append(dst, u[:start]...)
	const hex = "0123456789ABCDEF"
	for i := start; i < len(u); i++ {
		c := u[i]
		if c == '%' && !(i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2])) || mustEscape(c) {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// FixedURL is AppendFixedURL for a string; it returns s itself when
// nothing needs escaping.
func FixedURL(s string) string {
	b := []byte(s)
	if !needsFix(b[pathStart(b):]) {
		return s
	}
	return string(AppendFixedURL(nil, b))
}

// pathStart is where the path begins: after scheme://host of an absolute
// URL, else 0.
func pathStart(u []byte) int {
	for _, scheme := range []string{"http://", "https://"} {
		if len(u) >= len(scheme) && asciiEqualFold(u[:len(scheme)], scheme) {
			for i := len(scheme); i < len(u); i++ {
				if u[i] == '/' || u[i] == '?' || u[i] == '#' {
					return i
				}
			}
			return len(u)
		}
	}
	return 0
}

func needsFix(b []byte) bool {
	for i, c := range b {
		if mustEscape(c) || (c == '%' && !(i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]))) {
			return true
		}
	}
	return false
}

func mustEscape(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return true
	}
	switch c {
	case '"', '<', '>', '\\', '^', '`', '{', '|', '}':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
