package demo

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTour(t *testing.T) {
	dir := t.TempDir()
	var calls [][]string
	tour := Tour{Results: dir, Short: true, Attack: func(_ context.Context, args []string) error {
		calls = append(calls, args)
		// The target is up while the loads run.
		url := args[slices.Index(args, "--results")-1]
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}}
	var out, errb bytes.Buffer
	if err := tour.Run(context.Background(), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d attacks, want 2: %q", len(calls), calls)
	}
	for i, name := range []string{"closed", "open"} {
		args := calls[i]
		results := args[slices.Index(args, "--results")+1]
		if filepath.Base(results) != name || !strings.HasPrefix(filepath.Base(filepath.Dir(results)), "demo-") ||
			filepath.Dir(filepath.Dir(results)) != dir || !slices.Contains(args, "local") {
			t.Errorf("attack %d: %q", i, args)
		}
	}
	if !strings.Contains(out.String(), "the demo target served 2 requests; results are in "+filepath.Join(dir, "demo-")) ||
		!strings.HasSuffix(out.String(), Next) || !strings.HasPrefix(errb.String(), "demo target listening on http://127.0.0.1:") {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}

	// An attack's error ends the tour; an ended context ends it quietly.
	boom := errors.New("boom")
	tour.Attack = func(context.Context, []string) error { return boom }
	if err := tour.Run(context.Background(), &out, &errb); !errors.Is(err, boom) {
		t.Errorf("err %v, want the attack's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tour.Attack = func(context.Context, []string) error { t.Error("attack after the context ended"); return nil }
	if err := tour.Run(ctx, &out, &errb); err != nil {
		t.Errorf("cancelled: %v", err)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errb bytes.Buffer
	if err := Serve(ctx, "127.0.0.1:0", &errb); err != nil || !strings.Contains(errb.String(), "demo target served 0 requests") {
		t.Errorf("%v, stderr %q", err, errb.String())
	}
	if err := Serve(context.Background(), "127.0.0.1:99999", &errb); err == nil || !strings.HasPrefix(err.Error(), "demo target: ") {
		t.Errorf("bad address: %v", err)
	}
}
