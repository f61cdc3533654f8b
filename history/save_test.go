package history

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	// The first save creates the database and says where; later ones
	// do not.
	id, created, err := Save(path, summary("shop", t0, 10), StatusCompleted)
	if err != nil || id != 1 || created != path {
		t.Fatalf("first save: id %d, created %q, %v; want 1, %q", id, created, err, path)
	}
	id, created, err = Save(path, summary("shop", t0, 10), StatusCompleted)
	if err != nil || id != 2 || created != "" {
		t.Fatalf("second save: id %d, created %q, %v; want 2, \"\"", id, created, err)
	}

	// Each status a run can end with is stored as such.
	for _, status := range []string{StatusInterrupted, StatusFailedThresholds, StatusAllFailed, StatusDegraded} {
		t.Run(status, func(t *testing.T) {
			id, _, err := Save(path, summary("shop", t0, 10), status)
			if err != nil {
				t.Fatal(err)
			}
			s, err := OpenExisting(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, r, err := s.Get(id); err != nil || r.Status != status {
				t.Errorf("stored as %q, %v", r.Status, err)
			}
		})
	}
}

func TestSaveCorrupt(t *testing.T) {
	// A corrupt history fails the save with a clear error and leaves the
	// file alone; the caller still has its JSON and prints a warning.
	path := filepath.Join(t.TempDir(), "history.db")
	garbage := bytes.Repeat([]byte("garbage "), 1000)
	os.WriteFile(path, garbage, 0o644)
	_, _, err := Save(path, summary("shop", t0, 10), StatusCompleted)
	if err == nil || !strings.Contains(err.Error(), "history "+path+": not a fuka history database") {
		t.Errorf("corrupt history: %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, garbage) {
		t.Error("the corrupt file was changed")
	}
}

func TestOpenExisting(t *testing.T) {
	// Reading never creates a history.
	missing := filepath.Join(t.TempDir(), "none.db")
	if _, err := OpenExisting(missing); !errors.Is(err, ErrNoHistory) || !strings.Contains(err.Error(), "--history FILE") {
		t.Errorf("missing history: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("OpenExisting created the file")
	}
}

func TestParseNoise(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"5%", 0.05, true},
		{" 10 ", 0.10, true},
		{"0%", 0, true},
		{"lots", 0, false},
		{"-1%", 0, false},
		{"NaN", 0, false},
		{"1001%", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseNoise(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseNoise(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}
