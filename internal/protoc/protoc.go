// Package protoc compiles .proto files for fuka's gRPC schemas, as protoc
// would but in process (bufbuild/protocompile): a plan's protos: and
// quick mode's --proto use it alike, so a file means the same and its
// errors read the same in both.
package protoc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/reporter"
)

// Error is one error at its place in a .proto file.
type Error struct {
	Path      string // the file as found in an import path
	Line, Col int
	Msg       string
	// Missing says the file names an import that no import path holds:
	// the compiler stops there.
	Missing bool
}

// Compile compiles the files names, each relative to one of dirs (the
// import paths, where their imports are looked up too), with Google's
// well-known types built in. Errors in the files are errs, at their
// places; err is an error without a place.
func Compile(ctx context.Context, names, dirs []string) (files linker.Files, errs []Error, err error) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: dirs}),
		Reporter: reporter.NewReporter(func(e reporter.ErrorWithPos) error {
			errs = append(errs, at(e, dirs))
			return nil
		}, nil),
	}
	files, err = c.Compile(ctx, names...)
	var ep reporter.ErrorWithPos
	switch {
	case err == nil:
		return files, nil, nil
	case len(errs) > 0 && errors.Is(err, reporter.ErrInvalidSource):
		return nil, errs, nil
	case errors.As(err, &ep): // an import not found
		e := at(ep, dirs)
		e.Missing = true
		return nil, append(errs, e), nil
	}
	return nil, errs, errors.New(plainSpaces(err.Error()))
}

func at(e reporter.ErrorWithPos, dirs []string) Error {
	p := e.GetPosition()
	return Error{Path: shownPath(p.Filename, dirs), Line: p.Line, Col: p.Col, Msg: plainSpaces(e.Unwrap().Error())}
}

// shownPath is the path of the file the compiler named name, as found in
// one of dirs: where the user can open it.
func shownPath(name string, dirs []string) string {
	for _, d := range dirs {
		p := filepath.Join(d, filepath.FromSlash(name))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}

// plainSpaces makes the no-break space the protobuf module puts in some
// builds' errors (on purpose, per binary) a plain one, so an error reads
// the same from every fuka.
func plainSpaces(s string) string { return strings.ReplaceAll(s, "\u00a0", " ") }
