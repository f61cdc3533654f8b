package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// Side is one run of a comparison: stored (Run.ID > 0) or read from a JSON
// summary file (Source).
type Side struct {
	Sum    *report.Summary
	Run    Run
	Source string // the file it was read from
}

// parseNoise reads compare's noise, "5%" or "5" (both percent), as 0.05.
func parseNoise(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1000 {
		return 0, fmt.Errorf("--noise %q: want a percentage such as 5%%", s)
	}
	return v / 100, nil
}

// keyword tells last / last-completed apart from ids and files, and gives
// the status it selects.
func keyword(arg string) (status string, ok bool) {
	switch arg {
	case "last":
		return "", true
	case "last-completed":
		return StatusCompleted, true
	}
	return "", false
}

// runID parses a run id: a positive integer.
func runID(arg string) (int64, bool) {
	id, err := strconv.ParseInt(arg, 10, 64)
	return id, err == nil && id > 0
}

// Resolve reads arg as a run id, last or last-completed; nil, nil when it
// is none of them. A keyword picks the newest matching run of plan name
// ("" = any) older than run before (0 = any).
func (s *Store) Resolve(arg, name string, before int64) (*Side, error) {
	id, isID := runID(arg)
	if !isID {
		status, ok := keyword(arg)
		if !ok {
			return nil, nil
		}
		var err error
		if id, err = s.LatestBefore(name, status, before); err != nil {
			return nil, err
		}
	}
	sum, run, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	return &Side{Sum: sum, Run: run}, nil
}

// ResolvePair reads compare's two arguments against the history at path
// ("" = DefaultPath()), opened only when an argument needs it. Ids and
// files are read first; then a keyword B is the newest run (of plan name,
// "" = any), and a keyword A the newest before B (of name, else of B's
// plan), so that "last-completed last" compares the run just made with the
// good one before it, even when the run just made is itself completed.
// B's plan is as compare sees it: an import from wrk has none, as fuka
// attack has none.
func ResolvePair(path, name, argA, argB string) (a, b *Side, err error) {
	var s *Store
	store := func() (*Store, error) {
		if s != nil {
			return s, nil
		}
		st, err := OpenExisting(path)
		if err != nil {
			return nil, err
		}
		s = st
		return s, nil
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()

	fixed := func(arg string) (*Side, error) {
		if _, ok := keyword(arg); ok {
			return nil, nil
		}
		if _, ok := runID(arg); ok {
			st, err := store()
			if err != nil {
				return nil, err
			}
			return st.Resolve(arg, "", 0)
		}
		return ReadSummaryFile(arg)
	}
	if a, err = fixed(argA); err != nil {
		return nil, nil, err
	}
	if b, err = fixed(argB); err != nil {
		return nil, nil, err
	}
	if b == nil {
		st, err := store()
		if err != nil {
			return nil, nil, err
		}
		if b, err = st.Resolve(argB, name, 0); err != nil {
			return nil, nil, err
		}
	}
	if a == nil {
		st, err := store()
		if err != nil {
			return nil, nil, err
		}
		plan := name
		if plan == "" {
			plan = b.Run.Name
			if b.Sum != nil {
				plan = planOf(b.Sum)
			}
		}
		if a, err = st.Resolve(argA, plan, b.Run.ID); err != nil {
			return nil, nil, err
		}
	}
	return a, b, nil
}

// ReadSummaryFile reads a JSON summary written by --json-out or -o json.
func ReadSummaryFile(path string) (*Side, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q is not a run id, last, last-completed or a JSON summary file (no such file)", path)
		}
		return nil, err
	}
	// A summary has fuka_version; checking for it tells a summary from
	// any other JSON (a plan, a HAR) before numbers are compared.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (%v)", path, err)
	}
	if _, ok := keys["fuka_version"]; !ok {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (no fuka_version key)", path)
	}
	var sum report.Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (%v)", path, err)
	}
	return &Side{Sum: &sum, Run: RunOf(&sum, ""), Source: path}, nil
}

// CompareArgs compares compare's arguments A and B (run ids, last,
// last-completed or JSON summary files, as ResolvePair reads them) with
// the relative noise given as "5%" or "5".
func CompareArgs(path, name, argA, argB, noise string) (*Comparison, error) {
	nf, err := parseNoise(noise)
	if err != nil {
		return nil, err
	}
	a, b, err := ResolvePair(path, name, argA, argB)
	if err != nil {
		return nil, err
	}
	c := Compare(a.Sum, b.Sum, a.Run, b.Run, nf)
	c.SourceA, c.SourceB = a.Source, b.Source
	return c, nil
}
