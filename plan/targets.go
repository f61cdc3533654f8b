package plan

import (
	"slices"
	"strings"
)

// Targets are the targets p's steps send to, each once, in the order the
// plan first names them: base_url where a step's path is relative to it
// (a ws: step's too, or a scenario is a script), a grpc: step's address,
// an absolute URL's scheme and host. A target whose host is a template is
// left out: it is known only at run time.
func (p *Plan) Targets() []string {
	var out []string
	add := func(t string) {
		if t != "" && !strings.Contains(t, "{{") && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	base := strings.TrimSuffix(p.BaseURL.Value, "/")
	for _, sc := range p.Scenarios {
		if sc.Script.Value != "" {
			add(base)
		}
		Walk(sc.Steps, func(st *Step) {
			switch {
			case st.GRPC != nil:
				add(origin(st.Path.Value))
			case st.Kind == StepWS:
				if u := st.WS.URL.Value; hasScheme(u, "ws://", "wss://") || strings.HasPrefix(u, "{{") {
					add(origin(u))
				} else {
					add(base) // the same server as base_url's other steps: one target
				}
			case st.Kind == StepRequest:
				if u := st.Path.Value; hasScheme(u, "http://", "https://") {
					add(origin(u))
				} else {
					add(base)
				}
			}
		})
	}
	return out
}

// origin is u's scheme and host: u up to its path.
func origin(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return scheme + "://" + rest
}

func hasScheme(u string, schemes ...string) bool {
	for _, s := range schemes {
		if strings.HasPrefix(u, s) {
			return true
		}
	}
	return false
}
