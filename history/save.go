package history

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/fuka-load/fuka/report"
)

// ErrNoHistory: the history file does not exist yet.
var ErrNoHistory = errors.New("no run history yet")

// Save stores a finished (or interrupted) run's summary in the history at
// path ("" = DefaultPath()) and returns its id, and the database's path
// when this save created it ("" when it existed): the run that starts the
// history says where it is, once. A run calls it after its results are
// written; on an error it prints a warning and carries on, so a corrupt or
// locked history never loses a run's JSON.
func Save(path string, sum *report.Summary, status string) (id int64, created string, err error) {
	if path == "" {
		if path, err = DefaultPath(); err != nil {
			return 0, "", err
		}
	}
	_, statErr := os.Stat(path)
	s, err := Open(path)
	if err != nil {
		return 0, "", err
	}
	id, err = s.Save(sum, status)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, "", err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		created = path
	}
	return id, created, nil
}

// OpenExisting opens the history at path ("" = DefaultPath()) for
// reading. Reading never creates one: a missing file is ErrNoHistory, said
// plainly.
func OpenExisting(path string) (*Store, error) {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("history %s: %w (fuka run and fuka attack store each run there; or pass --history FILE)", path, ErrNoHistory)
	}
	return Open(path)
}

// WriteList writes the runs stored at path ("" = DefaultPath()), newest
// first, at most limit of them (0 = all), of plan name ("" = any); or says
// that there are none yet. A missing history is not an error: it has no
// runs.
func WriteList(w io.Writer, path string, limit int, name string) error {
	s, err := OpenExisting(path)
	if errors.Is(err, ErrNoHistory) {
		_, err = fmt.Fprintln(w, "no runs yet")
		return err
	}
	if err != nil {
		return err
	}
	defer s.Close()
	runs, err := s.List(limit, name)
	if err != nil {
		return err
	}
	switch {
	case len(runs) > 0:
		return WriteRuns(w, runs)
	case name != "":
		_, err = fmt.Fprintf(w, "no runs of %q yet\n", name)
	default:
		_, err = fmt.Fprintln(w, "no runs yet")
	}
	return err
}

// Load reads the summary of the run arg (an id, last or last-completed)
// from the history at path ("" = DefaultPath()).
func Load(path, arg string) (*report.Summary, error) {
	s, err := OpenExisting(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sd, err := s.Resolve(arg, "", 0)
	if err != nil {
		return nil, err
	}
	if sd == nil {
		return nil, fmt.Errorf("report: %q is not a run id, last or last-completed", arg)
	}
	return sd.Sum, nil
}
