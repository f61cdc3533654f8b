package helm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeeperScript runs the keeper container's script with sh: it waits
// while a fuka process exists, then holds the results until released. pidof
// is a stand-in that reports fuka running while a file exists, and /results
// is a temporary folder.
func TestKeeperScript(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	r := render(t, "load", readValues(t, "defaults.yaml"))
	pod := &r.job(t, "controller").Spec.Template.Spec
	k := container(t, pod, "results")
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	bin := filepath.Join(dir, "bin")
	running := filepath.Join(dir, "running")
	for _, d := range []string{filepath.Join(results, "shop-20260101-120000"), bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "pidof"), []byte("#!/bin/sh\n[ -e "+running+" ]\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(running, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(k.Command[2], "/results", results)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sh, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "POD_NAME=load-fuka-controller-x", "POD_NAMESPACE="+namespace)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	select {
	case err := <-done:
		t.Fatalf("keeper ended while fuka runs: %v\n%s", err, out.String())
	case <-time.After(3 * time.Second):
	}
	if err := os.Remove(running); err != nil { // the controller ends
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("keeper ended without holding the results: %v\n%s", err, out.String())
	case <-time.After(3 * time.Second):
	}
	if err := os.WriteFile(filepath.Join(results, ".release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("keeper: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("keeper still holds after .release\n%s", out.String())
	}
	log := out.String()
	for _, want := range []string{"the run has ended", "shop-20260101-120000", "kubectl cp -c results " + namespace + "/load-fuka-controller-x:/results"} {
		if !strings.Contains(log, strings.ReplaceAll(want, "/results", results)) && !strings.Contains(log, want) {
			t.Errorf("keeper log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(results, ".release")); err == nil {
		t.Error(".release left behind: the next run on a PVC would end its keeper at once")
	}
}
