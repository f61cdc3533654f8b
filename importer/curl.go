package importer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// curlOpt is what the importer knows of a curl option.
type curlOpt struct {
	name string // canonical long name
	arg  bool   // takes an argument
}

// curlOpts maps every spelling of the options fuka reads (or knowingly
// ignores) to its canonical name. Short options are one letter.
var curlOpts = func() map[string]curlOpt {
	m := map[string]curlOpt{}
	add := func(arg bool, short, long string, more ...string) {
		o := curlOpt{name: long, arg: arg}
		m[long] = o
		if short != "" {
			m[short] = o
		}
		for _, a := range more {
			m[a] = o
		}
	}
	// Read into the plan.
	add(true, "X", "request")
	add(true, "H", "header")
	add(true, "d", "data", "data-ascii")
	add(true, "", "data-raw")
	add(true, "", "data-binary")
	add(true, "", "data-urlencode")
	add(true, "", "json")
	add(true, "u", "user")
	add(true, "A", "user-agent")
	add(true, "e", "referer")
	add(true, "b", "cookie")
	add(true, "", "url")
	add(true, "", "url-query")
	add(true, "m", "max-time")
	add(true, "r", "range")
	add(true, "", "oauth2-bearer")
	add(true, "T", "upload-file")
	add(false, "G", "get")
	add(false, "I", "head")
	// Noted: they matter for a load test, and fuka does it another way.
	add(true, "F", "form", "form-string")
	add(true, "c", "cookie-jar")
	add(true, "x", "proxy", "preproxy", "socks4", "socks4a", "socks5", "socks5-hostname")
	add(true, "", "resolve", "connect-to")
	add(true, "", "unix-socket", "abstract-unix-socket")
	add(true, "K", "config")
	add(true, "", "aws-sigv4")
	add(false, "k", "insecure")
	add(false, "L", "location", "location-trusted")
	add(false, "", "compressed")
	add(false, "", "http2", "http2-prior-knowledge", "http3", "http3-only")
	add(false, "", "digest", "ntlm", "negotiate", "anyauth", "ntlm-wb")
	// Ignored quietly: output, progress, retries, TLS files and the like
	// change what curl prints or how it connects, not what it sends.
	for _, o := range []string{"s:silent", "S:show-error", "v:verbose", "i:include", "f:fail", ":fail-with-body",
		"N:no-buffer", "#:progress-bar", "g:globoff", ":http1.1", ":http1.0", "0:", "4:ipv4", "6:ipv6", ":path-as-is",
		":raw", ":tcp-nodelay", ":no-keepalive", ":create-dirs", "O:remote-name", ":remote-name-all",
		"J:remote-header-name", ":no-progress-meter", ":styled-output", ":no-styled-output", ":no-sessionid",
		":no-alpn", ":no-npn", "q:disable", ":fail-early", "Z:parallel", ":parallel-immediate", "R:remote-time",
		":xattr", ":suppress-connect-headers", ":trace-time", ":http0.9", "1:tlsv1", ":tlsv1.0", ":tlsv1.1",
		":tlsv1.2", ":tlsv1.3", ":ssl", ":ssl-reqd", ":basic", ":cert-status", ":false-start", ":ssl-no-revoke",
		":proxy-insecure", ":tr-encoding", ":no-clobber", ":remove-on-error", ":ca-native", ":ssl-allow-beast",
		"l:list-only", "n:netrc", ":netrc-optional", "B:use-ascii", "p:proxytunnel"} {
		short, long, _ := strings.Cut(o, ":")
		if long == "" {
			long = "ignored-" + short
		}
		add(false, short, long)
	}
	for _, o := range []string{"o:output", "w:write-out", "D:dump-header", ":stderr", ":trace", ":trace-ascii",
		":connect-timeout", ":retry", ":retry-delay", ":retry-max-time", ":max-redirs", ":limit-rate",
		"Y:speed-limit", "y:speed-time", ":interface", ":local-port", ":cacert", ":capath", "E:cert", ":cert-type",
		":key", ":key-type", ":pass", ":ciphers", ":tls-max", ":dns-servers", ":proto", ":proto-redir",
		":proto-default", ":expect100-timeout", ":happy-eyeballs-timeout-ms", ":keepalive-time", ":max-filesize",
		":rate", ":parallel-max", "z:time-cond", ":netrc-file", ":output-dir", "U:proxy-user", ":noproxy",
		":service-name", ":crlfile", ":pinnedpubkey", ":tls13-ciphers", ":curves", ":ech", ":ipfs-gateway",
		":etag-save", ":etag-compare", ":variable", "C:continue-at", "P:ftp-port", "Q:quote", ":mail-from",
		":mail-rcpt", ":proxy-header", ":request-target", ":sasl-authzid", ":login-options", ":delegation"} {
		short, long, _ := strings.Cut(o, ":")
		add(true, short, long)
	}
	return m
}()

// curlData is one -d/--data* argument.
type curlData struct {
	kind string // data, data-raw, data-binary, data-urlencode, json
	text string
}

// curlCmd is what a curl command line asks for.
type curlCmd struct {
	method             string
	urls               []string
	implied, custom    []kv // headers from -A, -e, -b, -u...; headers from -H
	data               []curlData
	get, head, upload  bool
	uploadFile         string
	timeout            time.Duration
	urlQuery           []string
	multipart          bool
	cookies            []string
	notes              notes
	vars               []string
	insecure, redirect bool
}

var errNoURL = errors.New("no URL in the curl command line")

// Curl imports a "Copy as cURL" command line (bash quoting: '...', "...",
// $'...', backslash-newline continuations) as a plan with one request.
// Options that do not change the request are accepted quietly; those that
// matter but cannot be carried over, and unknown ones, become notes.
func Curl(cmdline string) (*Result, error) {
	if strings.Contains(cmdline, "^\"") || strings.Contains(cmdline, " ^\n") || strings.Contains(cmdline, " ^\r\n") {
		return nil, errors.New(`this looks like a Windows cmd command line (^ escapes); copy it as "cURL (bash)" instead`)
	}
	words, vars, rest, err := shellWords(cmdline)
	if err != nil {
		return nil, fmt.Errorf("curl command line: %w", err)
	}
	if len(words) == 0 {
		return nil, errNoURL
	}
	if b := path.Base(strings.ReplaceAll(words[0], `\`, "/")); b == "curl" || b == "curl.exe" {
		words = words[1:]
	} else if !strings.HasPrefix(words[0], "-") && !strings.Contains(words[0], "://") {
		return nil, fmt.Errorf("not a curl command line: it starts with %q", clip(words[0]))
	}
	c := &curlCmd{vars: vars}
	if rest != "" {
		c.notes.add("ignored what follows the curl command: %q", clip(rest))
	}
	if err := c.parse(words); err != nil {
		return nil, err
	}
	if len(c.urls) == 0 {
		return nil, errNoURL
	}
	return c.plan()
}

func (c *curlCmd) parse(words []string) error {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			c.urls = append(c.urls, words[i+1:]...)
			return nil
		case strings.HasPrefix(w, "--"):
			name := w[2:]
			o, ok := curlOpts[name]
			if !ok && strings.HasPrefix(name, "no-") {
				if _, known := curlOpts[name[3:]]; known {
					continue // --no-location and the like: curl's default
				}
			}
			if !ok {
				c.notes.add("unknown curl option %s: ignored", clip(w))
				continue
			}
			val := ""
			if o.arg {
				if i+1 >= len(words) {
					return fmt.Errorf("curl option %s needs an argument", w)
				}
				i++
				val = words[i]
			}
			if err := c.option(o.name, "--"+name, val); err != nil {
				return err
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			// Short options combine (-sSL) and take their argument
			// attached (-XPOST) or as the next word.
			for j := 1; j < len(w); j++ {
				letter := w[j : j+1]
				o, ok := curlOpts[letter]
				if !ok {
					c.notes.add("unknown curl option -%s: ignored", letter)
					continue
				}
				val := ""
				if o.arg {
					if j+1 < len(w) {
						val = w[j+1:]
					} else if i+1 < len(words) {
						i++
						val = words[i]
					} else {
						return fmt.Errorf("curl option -%s needs an argument", letter)
					}
				}
				if err := c.option(o.name, "-"+letter, val); err != nil {
					return err
				}
				if o.arg {
					break
				}
			}
		default:
			c.urls = append(c.urls, w)
		}
	}
	return nil
}

// option applies one option; flag is how it was written, for notes.
func (c *curlCmd) option(name, flag, val string) error {
	switch name {
	case "request":
		c.method = strings.ToUpper(val)
	case "header":
		c.header(val)
	case "data", "data-raw", "data-binary", "data-urlencode", "json":
		c.data = append(c.data, curlData{kind: name, text: val})
	case "user":
		if !strings.Contains(val, ":") {
			c.notes.add("%s %s has no password (curl would ask for it): sent with an empty password", flag, clip(val))
			val += ":"
		}
		c.implied = setKV(c.implied, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(val)))
	case "user-agent":
		c.implied = setKV(c.implied, "User-Agent", val)
	case "referer":
		if r := strings.TrimSuffix(strings.TrimSuffix(val, "auto"), ";"); r != "" {
			c.implied = setKV(c.implied, "Referer", r)
		}
	case "cookie":
		if !strings.Contains(val, "=") {
			c.notes.add("%s %s reads cookies from a file: not imported (fuka keeps a cookie jar per client)", flag, clip(val))
			return nil
		}
		c.cookies = append(c.cookies, val)
	case "oauth2-bearer":
		c.implied = setKV(c.implied, "Authorization", "Bearer "+val)
	case "range":
		c.implied = setKV(c.implied, "Range", "bytes="+val)
	case "url":
		c.urls = append(c.urls, val)
	case "url-query":
		c.urlQuery = append(c.urlQuery, val)
	case "max-time":
		secs, err := strconv.ParseFloat(val, 64)
		if err != nil || secs <= 0 || secs > 1e6 {
			c.notes.add("%s %q: not a number of seconds: ignored", flag, clip(val))
			return nil
		}
		c.timeout = time.Duration(secs * float64(time.Second))
	case "upload-file":
		c.upload, c.uploadFile = true, val
	case "get":
		c.get = true
	case "head":
		c.head = true
	case "form":
		c.multipart = true
		c.notes.add("%s (multipart/form-data): not imported; fuka sends json, form (URL-encoded), body or body_file", flag)
	case "cookie-jar":
		c.notes.add("%s: not needed, fuka keeps a cookie jar per client", flag)
	case "proxy":
		c.notes.add("%s: fuka connects to the target directly, not through a proxy", flag)
	case "resolve", "connect-to":
		c.notes.add("%s %s: not imported; point base_url at the address instead (or use fuka run --base-url)", flag, clip(val))
	case "unix-socket", "abstract-unix-socket":
		c.notes.add("%s: fuka connects over TCP only", flag)
	case "config":
		c.notes.add("%s %s: options in a config file are not read", flag, clip(val))
	case "aws-sigv4":
		c.notes.add("%s: AWS request signing is not imported", flag)
	case "insecure":
		c.insecure = true
		c.notes.add("%s: run with `fuka run --insecure` to skip TLS certificate checks", flag)
	case "location":
		c.redirect = true
		c.notes.add("%s: the plan follows up to 20 redirects (follow_redirects: 20; curl's own limit is 50), each hop counted as NAME (redirect)", flag)
	case "compressed":
		c.notes.add("%s: not needed, fuka's client asks for gzip and decompresses it itself", flag)
	case "http2":
		c.notes.add("%s: run with `fuka run --http2`", flag)
	case "digest":
		c.notes.add("%s: only basic authentication is imported; set the Authorization header by hand", flag)
	}
	return nil
}

// header reads a -H argument: "Name: value", "Name;" (an empty value) or
// "Name:" (which removes one of curl's own headers: nothing to import).
func (c *curlCmd) header(h string) {
	if strings.HasPrefix(h, "@") {
		c.notes.add("-H %s reads headers from a file: not imported", clip(h))
		return
	}
	name, val, found := strings.Cut(h, ":")
	if !found {
		if n, ok := strings.CutSuffix(strings.TrimSpace(h), ";"); ok {
			c.custom = setKV(c.custom, strings.TrimSpace(n), "")
			return
		}
		c.notes.add("header %q has no colon: ignored", clip(h))
		return
	}
	name, val = strings.TrimSpace(name), strings.TrimLeft(val, " \t")
	if val == "" {
		return
	}
	c.custom = setKV(c.custom, name, val)
}

var planMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true, "HEAD": true, "OPTIONS": true}

func (c *curlCmd) plan() (*Result, error) {
	if len(c.urls) > 1 {
		c.notes.add("the command has %d URLs: imported the first, %s", len(c.urls), clip(c.urls[0]))
	}
	t, err := splitURL(c.urls[0])
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(t.path, string(markOpen)) {
		c.notes.add("the URL starts with a shell variable: set it in the environment to scheme://host[:port] when you run the plan")
	}
	if t.user != "" {
		c.implied = setKV(c.implied, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t.user)))
	}
	if len(c.cookies) > 0 {
		c.implied = setKV(c.implied, "Cookie", strings.Join(c.cookies, "; "))
	}

	body, bodyFile, hasBody := c.body()
	isJSON := slices.ContainsFunc(c.data, func(d curlData) bool { return d.kind == "json" })
	if isJSON {
		c.implied = setKV(c.implied, "Content-Type", "application/json")
		c.implied = setKV(c.implied, "Accept", "application/json")
	}
	query := c.urlQuery
	if c.get && hasBody {
		if bodyFile == "" {
			query = append(query, body)
		} else {
			c.notes.add("-G with data from the file %s: not imported", clip(bodyFile))
		}
		hasBody, body, bodyFile = false, "", ""
	}
	for _, q := range query {
		if strings.Contains(t.path, "?") {
			t.path += "&" + cleanURLPart(q)
		} else {
			t.path += "?" + cleanURLPart(q)
		}
	}

	method := c.method
	switch {
	case method != "":
	case c.head:
		method = "HEAD"
	case c.upload:
		method = "PUT"
	case hasBody || c.multipart:
		method = "POST"
	default:
		method = "GET"
	}
	if !planMethods[method] {
		return nil, fmt.Errorf("method %q: a plan sends GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS", clip(method))
	}
	if c.upload {
		hasBody, body, bodyFile = true, "", c.uploadFile
	}
	if hasBody && !isJSON && !c.upload {
		c.implied = setKV(c.implied, "Content-Type", formType)
	}

	st := &step{method: method, path: t.path, timeout: c.timeout}
	if c.redirect {
		st.followRedirects = 20 // a plan's most
	}
	st.headers = append(st.headers, c.implied...)
	for _, h := range c.custom {
		st.headers = setKV(st.headers, h.k, h.v)
	}
	st.headers = cleanHeaders(st.headers, &c.notes)
	if hasBody {
		c.setBody(st, body, bodyFile)
	}

	d := &doc{
		header: []string{
			"Imported by `fuka import curl` from a curl command line. Schema: docs/plan.md.",
			"Check it with `fuka validate FILE`, run it with `fuka run FILE`.",
		},
		baseURL:    t.origin,
		scenarios:  []*scen{{name: "imported", steps: []*step{st}}},
		load:       loadShape{clients: 10, duration: 30 * time.Second},
		loadNote:   defaultLoadNote,
		thresholds: []string{"error_rate < 1%"},
	}
	for _, v := range c.vars {
		d.env = append(d.env, kv{k: v, v: "", comment: "from $" + v + " in the command line: set it when you run the plan"})
	}
	return &Result{YAML: d.bytes(), Skipped: c.notes.list}, nil
}

// defaultLoadNote explains the placeholder load of a plan imported from a
// single request.
var defaultLoadNote = []string{
	"A starting point, not a recommendation: 10 clients (virtual users) for 30s.",
	"Adjust it to your test, or switch to the open model (arrivals per second):",
	"  load: { rate: 50, duration: 1m }",
}

// body joins the data arguments the way curl does: -d parts with "&",
// --json parts as they are. A part read from a file (@file) can only be
// sent alone, as body_file.
func (c *curlCmd) body() (body, file string, ok bool) {
	if len(c.data) == 0 {
		return "", "", false
	}
	var parts []string
	sep := "&"
	for _, d := range c.data {
		text := d.text
		switch d.kind {
		case "json":
			sep = ""
			if strings.HasPrefix(text, "@") {
				file = text[1:]
				continue
			}
		case "data", "data-binary":
			if strings.HasPrefix(text, "@") {
				file = text[1:]
				if d.kind == "data" {
					c.notes.add("--data @%s: curl strips line breaks from the file; body_file sends it as is", clip(file))
				}
				continue
			}
		case "data-urlencode":
			var err error
			if text, err = curlURLEncode(text); err != nil {
				c.notes.add("--data-urlencode %s: %v: not imported", clip(d.text), err)
				continue
			}
		}
		parts = append(parts, text)
	}
	if file == "-" {
		c.notes.add("data from standard input (@-): not imported")
		file = ""
	}
	if file != "" && len(parts) > 0 {
		c.notes.add("data from the file %s together with other data: only the other data is imported", clip(file))
		file = ""
	}
	return strings.Join(parts, sep), file, true
}

// curlURLEncode applies --data-urlencode's rules: "content", "=content",
// "name=content" encode the content; "@file" and "name@file" read a file.
func curlURLEncode(s string) (string, error) {
	i := strings.IndexAny(s, "=@")
	switch {
	case i < 0:
		return urlEncode(s), nil
	case s[i] == '@':
		return "", errors.New("reads a file")
	case i == 0:
		return urlEncode(s[1:]), nil
	}
	return s[:i] + "=" + urlEncode(s[i+1:]), nil
}

// urlEncode percent-encodes all but unreserved characters, as curl does;
// marked expressions are kept.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if n := markedLen(s[i:]); n > 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		switch c := s[i]; {
		case isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
		i++
	}
	return b.String()
}

// cleanHeaders drops what fuka sets itself or cannot send, with a note.
func cleanHeaders(hs []kv, n *notes) []kv {
	var out []kv
	for _, h := range hs {
		switch {
		case !isToken(h.k):
			n.add("header %q: not a valid header name: dropped", clip(h.k))
		case strings.ContainsAny(h.v, "\r\n"):
			n.add("header %s: the value has a line break: dropped", h.k)
		case !utf8.ValidString(h.v):
			n.add("header %s: the value is not UTF-8 text: dropped", h.k)
		case strings.EqualFold(h.k, "Content-Length"):
			n.add("header Content-Length dropped: fuka sets it from the body")
		case strings.EqualFold(h.k, "Host"):
			n.add("header Host dropped: requests go to the URL's host (base_url)")
		case strings.EqualFold(h.k, "Accept-Encoding"):
			n.add("header Accept-Encoding dropped: fuka's client asks for gzip and decompresses it itself")
		default:
			out = append(out, h)
		}
	}
	return out
}

// setBody picks json:, form: or body: (or body_file:) for the request.
func (c *curlCmd) setBody(st *step, body, file string) {
	ct, _ := findKV(st.headers, "Content-Type")
	switch {
	case file != "":
		st.bodyFile = file
		c.notes.add("the body is read from %s: keep that file next to the plan (body_file is relative to the plan file)", clip(file))
		return
	case !utf8.ValidString(body):
		c.notes.add("the body is not UTF-8 text: dropped (save it to a file and use body_file)")
		return
	}
	if isJSONType(ct) {
		if v, err := parseJSON(body); err == nil {
			st.json = v
			if strings.EqualFold(strings.TrimSpace(ct), "application/json") {
				st.headers = delKV(st.headers, "Content-Type")
			}
			return
		}
	}
	if mediaType(ct) == formType {
		if pairs, ok := parseForm(body); ok {
			st.form = pairs
			if strings.EqualFold(strings.TrimSpace(ct), formType) {
				st.headers = delKV(st.headers, "Content-Type")
			}
			return
		}
	}
	st.body = &body
}
