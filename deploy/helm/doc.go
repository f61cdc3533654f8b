// Package helm tests the fuka Helm chart in fuka/: it renders the chart with
// the Helm library for several values files and decodes every object
// strictly into the Kubernetes API types, so an unknown or misplaced field
// fails the test, then checks what a distributed run depends on.
//
// TestAPIServerInstall goes further, with the real helm against a real
// kube-apiserver (internal/testkube): install with --dry-run=server and for
// real, the objects stored, Pod Security "restricted" admitting the Jobs'
// pods. It needs the binaries .ci/kube-tools.sh builds and Debian's
// etcd-server, and skips without them unless FUKA_INTEGRATION=1.
package helm
