package importer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// The parts of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/)
// that a plan needs.
type harFile struct {
	Log struct {
		Pages   []harPage  `json:"pages"`
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harPage struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type harEntry struct {
	Pageref         string  `json:"pageref"`
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"` // ms, the whole exchange
	ResourceType    string  `json:"_resourceType"`
	Request         struct {
		Method   string  `json:"method"`
		URL      string  `json:"url"`
		Headers  []harNV `json:"headers"`
		PostData *struct {
			MimeType string  `json:"mimeType"`
			Text     string  `json:"text"`
			Params   []harNV `json:"params"`
		} `json:"postData"`
	} `json:"request"`
	Response struct { // missing or null in some recordings: status 0
		Status  int `json:"status"`
		Content struct {
			MimeType string `json:"mimeType"`
		} `json:"content"`
	} `json:"response"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// minThink is the shortest gap between two requests that becomes a think
// step: shorter gaps are the browser's own pace, not the user's. maxThink
// caps a pause: a longer one is the user away from the keyboard, which a
// load test should not copy.
const (
	minThink = 500 * time.Millisecond
	maxThink = time.Minute
)

// staticExt are URL extensions of static assets.
var staticExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true, ".ico": true, ".webp": true, ".avif": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".css": true, ".js": true, ".mjs": true, ".map": true,
}

// isStatic tells a static asset (image, font, stylesheet, script) by its
// response type, its URL's extension or the browser's resource type.
func isStatic(e *harEntry, u *url.URL) bool {
	mt := mediaType(e.Response.Content.MimeType)
	switch {
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "font/"), mt == "text/css",
		strings.Contains(mt, "javascript"), strings.Contains(mt, "ecmascript"),
		strings.Contains(mt, "font-woff"), strings.Contains(mt, "x-font"), mt == "application/vnd.ms-fontobject":
		return true
	}
	switch e.ResourceType {
	case "image", "stylesheet", "script", "font":
		return true
	}
	return staticExt[strings.ToLower(path.Ext(u.Path))]
}

// harDrop are request headers a plan leaves out: fuka's client sets them
// (or must not copy them), or they only describe the browser.
var harDrop = map[string]bool{
	"Content-Length": true, "Host": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Upgrade": true, "Te": true, "Trailer": true, "Priority": true,
	"Upgrade-Insecure-Requests": true,
}

// harReq is one request that stays in the plan.
type harReq struct {
	e          *harEntry
	u          *url.URL
	start, end time.Time
	timed      bool
	headers    []kv
}

// HAR imports a HAR 1.2 recording (browser devtools "Save all as HAR"):
// one scenario with the recorded requests in order, static assets left
// out, the user's pauses kept as think steps, and a status check per
// request. Requests to the most common origin use base_url; others keep
// their absolute URL. With several pages, each page is a group.
func HAR(r io.Reader) (*Result, error) {
	var f harFile
	// Some tools (Fiddler, Charles, editors on Windows) write a UTF-8 byte
	// order mark before the JSON, which encoding/json refuses.
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	dec := json.NewDecoder(br)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("HAR: %w", err)
	}
	if len(f.Log.Entries) == 0 {
		return nil, fmt.Errorf("HAR: no entries (log.entries is empty)")
	}
	var n notes
	var reqs []*harReq
	static, nonHTTP, noResponse, badTime := 0, 0, 0, 0
	for i := range f.Log.Entries {
		e := &f.Log.Entries[i]
		u, err := url.Parse(scrub(e.Request.URL))
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			nonHTTP++
			continue
		case isStatic(e, u):
			static++
			continue
		}
		if e.Response.Status == 0 {
			// Cancelled, blocked or still pending when the recording was
			// saved: the browser sent it (or meant to), so the user's flow
			// has it; there is only no status to check.
			noResponse++
		}
		method := strings.ToUpper(e.Request.Method)
		if !planMethods[method] {
			n.add("%s %s: a plan cannot send %s, left out", clip(method), clip(u.String()), clip(method))
			continue
		}
		e.Request.Method = method
		rq := &harReq{e: e, u: u}
		if t, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err == nil {
			rq.start, rq.timed = t, true
			rq.end = t.Add(time.Duration(max(e.Time, 0) * float64(time.Millisecond)))
		} else {
			badTime++
		}
		reqs = append(reqs, rq)
	}
	if static > 0 {
		n.add("%d static asset(s) (images, fonts, CSS, JavaScript): left out, as browsers cache them; test them separately if your servers serve them", static)
	}
	if nonHTTP > 0 {
		n.add("%d request(s) that are not http(s) (data:, blob:, ws:, extensions): left out", nonHTTP)
	}
	if noResponse > 0 {
		n.add("%d request(s) recorded without a response (status 0 or none: cancelled, blocked or pending when saved): imported without a status check", noResponse)
	}
	if badTime > 0 {
		n.add("%d request(s) without a readable startedDateTime: no think time around them", badTime)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("HAR: nothing to import: of %d entries, %d static asset(s), %d not http(s), %d with a method a plan cannot send", len(f.Log.Entries), static, nonHTTP, len(f.Log.Entries)-static-nonHTTP)
	}

	base := commonOrigin(reqs)
	defaults := harHeaders(reqs, &n)

	titles := map[string]string{}
	for _, p := range f.Log.Pages {
		t := strings.TrimSpace(oneLine(scrub(p.Title)))
		if t == "" {
			t = p.ID
		}
		titles[p.ID] = t
	}
	pages := map[string]bool{}
	for _, rq := range reqs {
		pages[rq.e.Pageref] = true
	}
	grouped := len(pages) > 1

	var (
		top      []*step
		group    *step
		groupRef string
		last     time.Time // the latest end of a request so far
		total    time.Duration
	)
	for _, rq := range reqs {
		st := harStep(rq, base, &n)
		var pause *step
		if rq.timed && !last.IsZero() {
			if gap := rq.start.Sub(last); gap >= minThink {
				d := roundThink(gap)
				if d > maxThink {
					n.add("a pause of %s before %s %s: cut to %s", fmtDur(d), rq.e.Request.Method, clip(rq.u.String()), fmtDur(maxThink))
					d = maxThink
				}
				total += d
				pause = &step{pause: &think{min: d, max: d}}
			}
		}
		if rq.timed && rq.end.After(last) {
			last = rq.end
		}
		if grouped && (group == nil || rq.e.Pageref != groupRef) {
			if pause != nil {
				top, pause = append(top, pause), nil
			}
			group, groupRef = nil, rq.e.Pageref
			if rq.e.Pageref != "" {
				name := titles[rq.e.Pageref]
				if name == "" {
					name = rq.e.Pageref
				}
				group = &step{group: name}
				top = append(top, group)
			}
		}
		dst := &top
		if group != nil {
			dst = &group.steps
		}
		if pause != nil {
			*dst = append(*dst, pause)
		}
		*dst = append(*dst, st)
	}

	dur := 30 * time.Second
	if total*3 > dur {
		dur = (total*3 + 10*time.Second - 1).Truncate(10 * time.Second) // rounded up
	}
	d := &doc{
		header: []string{
			"Imported by `fuka import har` from a browser recording. Schema: docs/plan.md.",
			"Check it with `fuka validate FILE`, run it with `fuka run FILE`.",
			"Static assets are left out; pauses of 500ms or more are kept as think steps.",
		},
		baseURL:    base,
		defHeaders: defaults,
		scenarios: []*scen{{
			name:    "imported",
			comment: []string{fmt.Sprintf("%d request(s) as recorded, with %s of think time in all.", len(reqs), fmtDur(total))},
			steps:   top,
		}},
		load:       loadShape{clients: 10, duration: dur},
		loadNote:   defaultLoadNote,
		thresholds: []string{"error_rate < 1%", "checks > 99%"},
	}
	d.loadNote = []string{
		fmt.Sprintf("A starting point, not a recommendation: 10 clients (virtual users) for %s,", fmtDur(dur)),
		"long enough for a few passes through the recording. Adjust it to your test, or",
		"switch to the open model (arrivals per second): load: { rate: 5, duration: 5m }",
	}
	return &Result{YAML: d.bytes(), Skipped: n.list}, nil
}

// commonOrigin is the origin most requests go to (the first one on a tie).
func commonOrigin(reqs []*harReq) string {
	count := map[string]int{}
	best := ""
	for _, rq := range reqs {
		o := origin(rq.u)
		count[o]++
		if count[o] > count[best] {
			best = o
		}
	}
	return best
}

// harHeaders filters every request's headers and returns the ones all
// requests send with the same value, for defaults.headers (taking them off
// the requests).
func harHeaders(reqs []*harReq, n *notes) []kv {
	for _, rq := range reqs {
		for _, h := range rq.e.Request.Headers {
			name := scrub(h.Name)
			if strings.HasPrefix(name, ":") {
				continue // HTTP/2 pseudo-headers
			}
			name = http.CanonicalHeaderKey(name)
			switch {
			case harDrop[name], strings.HasPrefix(name, "Sec-"):
				continue
			case name == "Cookie":
				n.add("Cookie headers left out: fuka keeps a cookie jar per client, so cookies the responses set are sent back (log in within the scenario)")
				continue
			case name == "Referer":
				n.add("Referer headers left out: they name the page the browser was on")
				continue
			case name == "Accept-Encoding":
				n.add("Accept-Encoding headers left out: fuka's client asks for gzip and decompresses it itself")
				continue
			case !isToken(name) || strings.ContainsAny(h.Value, "\r\n"):
				n.add("header %q: cannot be sent as recorded: left out", clip(name))
				continue
			}
			rq.headers = setKV(rq.headers, name, scrub(h.Value))
		}
	}
	if len(reqs) < 2 {
		return nil
	}
	var common []kv
	for _, h := range reqs[0].headers {
		if h.k == "Content-Type" {
			continue
		}
		all := true
		for _, rq := range reqs[1:] {
			if v, i := findKV(rq.headers, h.k); i < 0 || v != h.v {
				all = false
				break
			}
		}
		if all {
			common = append(common, h)
		}
	}
	for _, rq := range reqs {
		for _, h := range common {
			rq.headers = delKV(rq.headers, h.k)
		}
	}
	return common
}

// harStep turns a recorded request into a request step.
func harStep(rq *harReq, base string, n *notes) *step {
	u, e := rq.u, rq.e
	p := oneSlash(cleanURLPart(u.EscapedPath()))
	if p == "" {
		p = "/"
	}
	name := e.Request.Method + " " + p
	if origin(u) != base {
		p = origin(u) + p
		name = e.Request.Method + " " + p
	}
	if u.RawQuery != "" {
		p += "?" + cleanURLPart(u.RawQuery)
	} else {
		name = "" // the default name says the same
	}
	st := &step{method: e.Request.Method, path: p, name: name, headers: rq.headers}
	if s := e.Response.Status; s >= 100 && s <= 599 {
		st.status = s
	}
	pd := e.Request.PostData
	if pd == nil || (pd.Text == "" && len(pd.Params) == 0) {
		return st
	}
	ct, _ := findKV(st.headers, "Content-Type")
	if ct == "" {
		ct = pd.MimeType
	}
	text := scrub(pd.Text)
	switch mt := mediaType(ct); {
	case isJSONType(ct):
		if v, err := parseJSON(text); err == nil {
			st.json = v
			if strings.EqualFold(strings.TrimSpace(ct), "application/json") {
				st.headers = delKV(st.headers, "Content-Type")
			}
			return st
		}
	case mt == formType:
		pairs, ok := parseForm(text)
		if text == "" {
			pairs, ok = harParams(pd.Params)
		}
		if ok {
			st.form = pairs
			if strings.EqualFold(strings.TrimSpace(ct), formType) {
				st.headers = delKV(st.headers, "Content-Type")
			}
			return st
		}
	case mt == "multipart/form-data" && text == "":
		n.add("%s %s: the multipart body was not recorded: sent without a body", e.Request.Method, clip(p))
		return st
	}
	if !utf8.ValidString(text) {
		n.add("%s %s: the body is not UTF-8 text: sent without a body", e.Request.Method, clip(p))
		return st
	}
	st.body = &text
	if _, i := findKV(st.headers, "Content-Type"); i < 0 && ct != "" {
		st.headers = append(st.headers, kv{k: "Content-Type", v: ct})
	}
	return st
}

// harParams reads postData.params of a form whose text was not recorded.
func harParams(ps []harNV) ([]kv, bool) {
	seen := map[string]bool{}
	var out []kv
	for _, p := range ps {
		k, v := scrub(p.Name), scrub(p.Value)
		if k == "" || seen[k] {
			return nil, false
		}
		seen[k] = true
		out = append(out, kv{k: k, v: v})
	}
	return out, len(out) > 0
}
