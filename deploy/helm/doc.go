// Package helm tests the fuka Helm chart in fuka/: it renders the chart with
// the Helm library for several values files and decodes every object
// strictly into the Kubernetes API types, so an unknown or misplaced field
// fails the test, then checks what a distributed run depends on.
//
// It is a module of its own, so that the fuka binary's module does not carry
// Helm and the Kubernetes API: run it with (cd deploy && go test ./...).
package helm
