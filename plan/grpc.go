package plan

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
)

// GRPC is a grpc: step's call: a unary method of a gRPC service, its
// schema from the target's server reflection. The step is a StepRequest
// whose Method is "GRPC", whose Path is the target (grpc://host:port or
// grpcs://host:port), JSON the message (a JSON document with templates in
// its strings, as json:'s) and Headers the metadata, so that templates,
// names, checks and extraction work as on an HTTP request; checks and
// extraction read the response message's JSON form.
type GRPC struct {
	Service String // full name: pkg.Service
	Method  String
	// Expect, for a server-streaming method, is how many answers to read
	// before ending the stream (0: to its end); getting them is a check.
	Expect int
	// RetryCodes are the codes after which a call is sent again, when the
	// step has retries (an attempt that got no answer always is); nil:
	// DefaultRetryCodes.
	RetryCodes    []codes.Code
	RetryCodesPos Pos
	Pos           Pos // the grpc: mapping
}

// DefaultRetryCodes are the codes a grpc: step's retries follow when it
// names none: UNAVAILABLE, the code gRPC's own retry policies name as safe
// to retry (the server did not process the call).
var DefaultRetryCodes = []codes.Code{codes.Unavailable}

// MethodGRPC is a grpc: step's Method.
const MethodGRPC = "GRPC"

var (
	grpcKeys = []string{"target", "service", "method", "message", "metadata", "expect"}
	// grpcStepKeys are the keys a grpc: step may have beside it.
	grpcStepKeys = []string{"name", "timeout", "extract", "check", "abort_on_fail", "on_failure", "retries", "retry_non_idempotent", "retry_codes"}
)

func (ps *parser) grpcStep(st *Step, action entry, es []entry) {
	st.Kind, st.Method = StepRequest, MethodGRPC
	g := &GRPC{Pos: ps.pos(action.V)}
	st.GRPC = g
	ges, ok := ps.mapping(action.V, "grpc")
	if !ok {
		return
	}
	for _, e := range ges {
		switch e.Key {
		case "target":
			if s, ok := ps.nonEmpty("grpc target", e.V); ok {
				st.Path = s
				if err := checkGRPCTarget(s.Value); err != nil {
					ps.errorf(e.V, "grpc target: %v", err)
				}
			}
		case "service":
			if s, ok := ps.nonEmpty("grpc service", e.V); ok {
				g.Service = s
				if !validFullName(s.Value) {
					ps.errorf(e.V, "grpc service %q: want its full name, pkg.Service", clip(s.Value))
				}
			}
		case "method":
			if s, ok := ps.nonEmpty("grpc method", e.V); ok {
				g.Method = s
				if !validFullName(s.Value) || strings.Contains(s.Value, ".") {
					ps.errorf(e.V, "grpc method %q: want the method's name, e.g. Add", clip(s.Value))
				}
			}
		case "message":
			if e.V.Kind != yaml.MappingNode {
				ps.errorf(e.V, "grpc message: want a mapping (the message's fields), got %s", describe(e.V))
				continue
			}
			var buf bytes.Buffer
			if ps.toJSON("grpc message", e.V, &buf) {
				st.JSON = &String{Value: buf.String(), Pos: ps.pos(e.V)}
			}
		case "metadata":
			st.Headers = ps.strMap("grpc metadata", e.V, func(e entry) bool {
				if err := metadataKey(e.Key); err != nil {
					ps.errorf(e.K, "grpc metadata: %v", err)
					return false
				}
				return true
			})
		case "expect":
			if n, ok := ps.integer("grpc expect", e.V); ok {
				if n < 1 || n > 1_000_000 {
					ps.errorf(e.V, "grpc expect %d: want 1 to 1000000 answers", n)
				}
				g.Expect = n
			}
		default:
			ps.unknown(e, "grpc", grpcKeys)
		}
	}
	for _, what := range grpcKeys[:3] { // target, service, method
		if !ps.hasKey(ges, what) {
			hint := ""
			if what == "target" {
				hint = " (grpc://host:port in plaintext, grpcs://host:port over TLS)"
			}
			ps.errorf(action.K, "grpc: %s is required%s", what, hint)
		}
	}
	for _, e := range es {
		if e.Key == "grpc" {
			continue
		}
		switch e.Key {
		case "name":
			if s, ok := ps.nonEmpty("name", e.V); ok {
				st.Name = s.Value
			}
		case "timeout":
			st.Timeout, _ = ps.positive("timeout", e.V)
		case "extract":
			st.Extract = ps.extracts(e.V)
			for _, x := range st.Extract {
				if x.From == FromCookie {
					ps.errorAt(x.Pos, "extract %q: a gRPC answer sets no cookies; from a call: json:PATH, regex:RE (on the answer's JSON form), header:NAME, trailer:NAME (its metadata)", x.Var)
				}
			}
		case "check":
			st.Checks = ps.checks(e.V)
		case "retries":
			if n, ok := ps.retries(e.V); ok {
				st.Retries, st.RetriesPos = &n, ps.pos(e.V)
			}
		case "retry_non_idempotent":
			if b, ok := ps.boolean("retry_non_idempotent", e.V); ok {
				st.RetryNonIdempotent = &b
			}
		case "retry_codes":
			g.RetryCodes, g.RetryCodesPos = ps.retryCodes(e.V), ps.pos(e.V)
		case "abort_on_fail":
			st.AbortOnFail, _ = ps.boolean("abort_on_fail", e.V)
		case "on_failure":
			ps.onFailure(st, es)
		default:
			if slices.Contains(actionKeys, e.Key) {
				continue // reported as a second action
			}
			ps.unknown(e, "grpc step", grpcStepKeys)
		}
	}
	if st.Name == "" {
		st.Name = g.Service.Value + "/" + g.Method.Value
	}
}

func (ps *parser) hasKey(es []entry, key string) bool {
	return slices.ContainsFunc(es, func(e entry) bool { return e.Key == key })
}

// checkGRPCTarget accepts grpc://host:port and grpcs://host:port.
func checkGRPCTarget(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "grpc" && u.Scheme != "grpcs") || u.Port() == "" || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q: want grpc://host:port (plaintext) or grpcs://host:port (TLS)", clip(raw))
	}
	return nil
}

// validFullName reports whether s is a protobuf full name: identifiers
// joined by dots.
func validFullName(s string) bool {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for _, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// metadataKey checks a metadata key as gRPC takes it: lower-case letters,
// digits, - _ and ., and not one of gRPC's own.
func metadataKey(k string) error {
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("key %q: lower-case letters, digits, - _ and . only", clip(k))
		}
	}
	if k == "" || strings.HasPrefix(k, "grpc-") || k == "content-type" || k == "te" || k == "user-agent" || strings.HasSuffix(k, "-bin") {
		return fmt.Errorf("key %q: empty, binary (-bin) or gRPC's own", clip(k))
	}
	return nil
}

// grpcErrors are a grpc: step's errors that a Plan built in code may have
// too (Parse reports them as it reads).
func grpcErrors(c *collector, st *Step) {
	if err := checkGRPCTarget(st.Path.Value); err != nil {
		c.add(st.Path.Pos, "grpc target: %v", err)
	}
	if !validFullName(st.GRPC.Service.Value) || !validFullName(st.GRPC.Method.Value) {
		c.add(st.GRPC.Pos, "grpc: want service pkg.Service and method Name")
	}
	if st.Timeout < 0 {
		c.add(st.Pos, "step: timeout %v is negative", st.Timeout)
	}
}

// noTrailerChecks refuses trailer checks outside grpc: steps: trailers
// are what a gRPC call ends with.
func (ps *parser) noTrailerChecks(cs []Check) {
	for _, c := range cs {
		if c.Kind == CheckTrailer {
			ps.errorAt(c.Pos, "check trailer: trailers are a gRPC call's metadata (grpc: steps); check a response's headers with header:")
		}
	}
}

// noTrailerExtracts is noTrailerChecks for extraction.
func (ps *parser) noTrailerExtracts(xs []Extract) {
	for _, x := range xs {
		if x.From == FromTrailer {
			ps.errorAt(x.Pos, "extract %q: trailer: is a gRPC call's metadata (grpc: steps); a response's headers are header:NAME", x.Var)
		}
	}
}

// retryCodes reads retry_codes: a list of gRPC code names (UNAVAILABLE,
// or unavailable), not OK.
func (ps *parser) retryCodes(n *yaml.Node) []codes.Code {
	items, ok := ps.list(n, "retry_codes")
	if !ok {
		return nil
	}
	out := []codes.Code{}
	for _, it := range items {
		s, ok := ps.nonEmpty("retry_codes", it)
		if !ok {
			continue
		}
		var c codes.Code
		if err := c.UnmarshalJSON([]byte(strconv.Quote(strings.ToUpper(s.Value)))); err != nil || c == codes.OK {
			ps.errorf(it, "retry_codes: %q is not a gRPC error code; want names such as UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED", clip(s.Value))
			continue
		}
		if slices.Contains(out, c) {
			ps.errorf(it, "retry_codes: %s is listed twice", strings.ToUpper(s.Value))
			continue
		}
		out = append(out, c)
	}
	return out
}
