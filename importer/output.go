package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Output is where an imported plan goes: stdout, or a file.
type Output struct {
	Path  string // "" or "-": stdout
	Force bool   // overwrite Path if it exists
}

func (o Output) stdout() bool { return o.Path == "" || o.Path == "-" }

// Write writes res's plan to o (stdout is w), then its notes on notes, one
// "skipped: ..." line each; and for a file, where the plan went and what
// to do next. A file that exists is kept unless o.Force.
func (o Output) Write(res *Result, w, notes io.Writer) error {
	if o.stdout() {
		if _, err := w.Write(res.YAML); err != nil {
			return err
		}
	} else if err := o.writeFile(res.YAML); err != nil {
		return err
	} else if err := o.writeCSVs(res.CSVHeaders); err != nil {
		return err
	}
	for _, n := range res.Skipped {
		fmt.Fprintf(notes, "skipped: %s\n", n)
	}
	if !o.stdout() {
		for _, f := range res.CSVHeaders {
			fmt.Fprintf(w, "wrote %s (%s with a header row)\n", filepath.Join(filepath.Dir(o.Path), f.Name), f.Src)
		}
		fmt.Fprintf(w, "wrote %s; next: fuka validate %s\n", o.Path, o.Path)
	}
	return nil
}

// writeCSVs writes the data files the plan needs next to it: a header
// line, then the source file, copied (it may be large).
func (o Output) writeCSVs(files []csvHeaderFile) error {
	for _, f := range files {
		dst := filepath.Join(filepath.Dir(o.Path), f.Name)
		if err := o.copyCSV(dst, f); err != nil {
			return err
		}
	}
	return nil
}

func (o Output) copyCSV(dst string, f csvHeaderFile) error {
	src, err := os.Open(f.Src)
	if err != nil {
		return err
	}
	defer src.Close()
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	out, err := os.OpenFile(dst, flag, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; use --force to overwrite", dst)
	}
	if err != nil {
		return err
	}
	if _, err := io.WriteString(out, f.Header+"\n"); err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (o Output) writeFile(b []byte) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(o.Path, flag, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; use --force to overwrite", o.Path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// File imports the file at path ("-": stdin) of kind "har" (HAR) or "jmx"
// (JMX; a JMeter plan's CSV paths are relative to its directory).
func File(kind, path string, stdin io.Reader) (*Result, error) {
	r, dir := stdin, "."
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, dir = f, filepath.Dir(path)
	}
	var res *Result
	var err error
	switch kind {
	case "har":
		res, err = HAR(r)
	case "jmx":
		res, err = JMX(r, dir)
	default:
		return nil, fmt.Errorf("import %s: want har or jmx", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}
