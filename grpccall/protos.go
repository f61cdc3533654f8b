package grpccall

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bufbuild/protocompile/linker"

	"github.com/fuka-load/fuka/internal/protoc"
)

// maxProtoErrors bounds the errors CompileProtos reports: a file that is
// not a .proto at all would otherwise list one per line.
const maxProtoErrors = 10

// Protos is a schema compiled from .proto files (quick mode's --proto),
// instead of learnt from the target's server reflection.
type Protos struct {
	files linker.Files
	names string // the files as given, for errors
}

// CompileProtos compiles the .proto files, as protoc would, with Google's
// well-known types built in. A file is found in the import path that
// holds it, so that its imports resolve as they were written; a file
// outside every import path is read from its own directory. Errors are
// at their place in the files (file:line:col), as the user named them.
func CompileProtos(ctx context.Context, files, importPaths []string) (*Protos, error) {
	if len(files) == 0 {
		return nil, errors.New("no .proto file")
	}
	var dirs []string
	for _, d := range importPaths {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--import-path %s: not a directory", d)
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	names := make([]string, len(files))
	for i, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			return nil, fmt.Errorf("--proto %s: no such file", f)
		}
		names[i] = protoName(f, &dirs)
	}
	compiled, errs, err := protoc.Compile(ctx, names, dirs)
	if len(errs) > 0 {
		lines := make([]string, 0, min(len(errs), maxProtoErrors))
		for _, e := range errs[:min(len(errs), maxProtoErrors)] {
			line := fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
			if e.Missing {
				line += fmt.Sprintf(" (imports are looked up in %s; add the directory they are relative to with --import-path)", strings.Join(dirs, ", "))
			}
			lines = append(lines, line)
		}
		return nil, errors.New(strings.Join(lines, "\n"))
	}
	if err != nil {
		return nil, fmt.Errorf("--proto: %w", err)
	}
	return &Protos{files: compiled, names: strings.Join(files, ", ")}, nil
}

// protoName is file's name for the compiler: relative to the import path
// that holds it; else its base name, its directory added to dirs.
func protoName(file string, dirs *[]string) string {
	abs, _ := filepath.Abs(file)
	for _, d := range *dirs {
		ad, _ := filepath.Abs(d)
		if rel, err := filepath.Rel(ad, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel)
		}
	}
	dir := filepath.Dir(file)
	if !slices.Contains(*dirs, dir) {
		*dirs = append(*dirs, dir)
	}
	return filepath.Base(file)
}

// Method finds "pkg.Service/Method" in the compiled files; an unknown
// service lists the files' services, an unknown method the service's.
func (p *Protos) Method(call string) (*Method, error) {
	service, method, err := SplitMethod(call)
	if err != nil {
		return nil, err
	}
	m, err := Find(p.files.AsResolver(), service, method)
	if errors.Is(err, errNoService) {
		var have []string
		for _, f := range p.files {
			for i := 0; i < f.Services().Len(); i++ {
				have = append(have, string(f.Services().Get(i).FullName()))
			}
		}
		if len(have) == 0 {
			have = []string{"no service"}
		}
		return nil, fmt.Errorf("service %s is not in %s (they have %s)", service, p.names, strings.Join(have, ", "))
	}
	return m, err
}
