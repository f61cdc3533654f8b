package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoHeavyKubernetesDeps keeps client-go's typed side out of the binary.
// The typed clientset, the typed and dynamic informer factories and
// k8s.io/api register every API group's types at start-up: importing them
// took fuka's resident memory from about 24 MB to about 42 MB before any
// work, and fuka must hold 5,000 connections in 40 MB. monitor/kube reads
// everything it needs through the dynamic client, client-go/tools/cache and
// unstructured objects instead; tests may import the heavy packages, since
// test-only imports never reach the binary.
func TestNoHeavyKubernetesDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/fuka-load/fuka/cmd/fuka").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{
		"k8s.io/client-go/kubernetes",
		"k8s.io/client-go/informers",
		"k8s.io/client-go/dynamic/dynamicinformer",
		"k8s.io/api/",
	}
	var heavy []string
	for pkg := range strings.FieldsSeq(string(out)) {
		for _, b := range banned {
			if pkg == strings.TrimSuffix(b, "/") || strings.HasPrefix(pkg, strings.TrimSuffix(b, "/")+"/") {
				heavy = append(heavy, pkg)
			}
		}
	}
	if len(heavy) > 0 {
		t.Errorf("cmd/fuka depends on %d packages of client-go's typed side or k8s.io/api, e.g. %s.\n"+
			"They cost ~18 MB of RSS at start-up, against the goal of 5,000 connections in 40 MB.\n"+
			"Read Kubernetes objects through k8s.io/client-go/dynamic and tools/cache as unstructured (see monitor/kube);\n"+
			"typed packages are fine in tests. Find the importer with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/fuka | grep %s",
			len(heavy), strings.Join(heavy[:min(3, len(heavy))], ", "), heavy[0])
	}
}
