package capacity

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fuka-load/fuka/threshold"
)

// ParseSLO parses a comma-separated list of threshold expressions, such as
// "p99 < 200ms, error_rate < 1%". Commas inside a quoted scope
// (`"a, b".p95 < 1s`) do not split.
func ParseSLO(s string) ([]*threshold.Expr, error) {
	terms := splitTerms(s)
	if len(terms) == 0 {
		return nil, errors.New("no SLO terms: want e.g. 'p99 < 200ms, error_rate < 1%'")
	}
	var out []*threshold.Expr
	for i, t := range terms {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("SLO term %d is empty", i+1)
		}
		e, err := threshold.Parse(strings.TrimSpace(t))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// splitTerms splits s at commas outside quotes; all blank gives none.
func splitTerms(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var terms []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++ // the escaped byte
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == ',':
			terms = append(terms, s[start:i])
			start = i + 1
		}
	}
	return append(terms, s[start:])
}
