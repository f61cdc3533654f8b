package results

import (
	"bytes"
	"fmt"
	"io"
)

// lineLimit passes r through, failing once a line grows past max bytes:
// the readers above it (encoding/csv, encoding/xml, bufio) would otherwise
// hold a line of any length in memory.
type lineLimit struct {
	r    io.Reader
	max  int
	run  int // bytes since the last newline
	line int // 1-based line number being read
}

func limitLines(r io.Reader) *lineLimit { return &lineLimit{r: r, max: maxLine, line: 1} }

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.run += len(b)
			break
		}
		if l.run+i > l.max {
			l.run += i
			break
		}
		l.run = 0
		l.line++
		b = b[i+1:]
	}
	if l.run > l.max {
		return 0, fmt.Errorf("line %d is longer than %d bytes: not a result file", l.line, l.max)
	}
	return n, err
}

// readAll reads a whole small file (a text report, a summary JSON), at
// most maxText bytes.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxText+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxText {
		return nil, fmt.Errorf("larger than %d MiB: not a %s", maxText>>20, "summary this format writes")
	}
	return data, nil
}
