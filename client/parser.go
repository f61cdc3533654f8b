package client

import (
	"bytes"
	"errors"
)

// Parser errors. They classify as "other" (a malformed response), except
// that a response cut short is reported by the caller as reset or body_read.
var (
	ErrMalformed   = errors.New("malformed HTTP response")
	ErrLineTooLong = errors.New("HTTP response header line too long")
	ErrTruncated   = errors.New("connection closed before the response was complete")
)

// maxLine bounds one status, header, chunk-size or trailer line. A target
// that sends an endless header cannot make fuka buffer without limit.
const maxLine = 16 << 10

type parseState uint8

const (
	stStatus     parseState = iota // waiting for the status line
	stHeader                       // header lines until the empty line
	stBodyLength                   // Content-Length body
	stBodyClose                    // body delimited by connection close
	stChunkSize                    // chunk-size line
	stChunkData                    // chunk data
	stChunkCRLF                    // the CRLF after chunk data
	stTrailer                      // trailer lines after the last chunk
	stDone
)

// Parser reads one HTTP/1.1 response incrementally from whatever pieces the
// socket delivers, without copying the body and without allocating: complete
// lines are parsed in the caller's buffer, and only a line split across two
// reads is copied into a small spill buffer the Parser keeps between requests.
//
// It keeps just what a load generator needs: the status, how the body is
// framed (Content-Length, chunked, or until close), whether the connection
// can be reused, and how many bytes the response took.
type Parser struct {
	state     parseState
	head      bool // the request was HEAD: no body whatever the headers say
	Status    int  // status of the final (non-1xx) response
	close     bool // the connection must be closed after this response
	http10    bool
	keepAlive bool  // HTTP/1.0 with Connection: keep-alive
	chunked   bool  //
	length    int64 // Content-Length, -1 when absent
	remaining int64 // body or chunk bytes still expected
	Bytes     int64 // bytes consumed for this response, headers included
	spill     []byte
	gotAny    bool // at least one byte of the response arrived
	headerEnd bool // the final response's headers are complete

	// Head and Body keep what a plan's extractors and checks read (see
	// Keep); their buffers are reused from response to response.
	Head     []byte // the final response's header lines, each ending in \n
	Body     []byte // its body, de-chunked, at most keepBody bytes
	keepHead bool
	keepBody int
}

// Reset prepares the parser for the response to a new request. head tells
// whether that request is a HEAD.
func (p *Parser) Reset(head bool) {
	spill := p.spill[:0]
	*p = Parser{head: head, length: -1, spill: spill, Head: p.Head[:0], Body: p.Body[:0]}
}

// Keep makes the parser keep the response's header lines (head) and up to
// body bytes of its body, after Reset, for the response to come. The rest
// of a longer body is read and counted, not kept.
func (p *Parser) Keep(head bool, body int) {
	p.keepHead, p.keepBody = head, body
}

// keep appends body bytes b, within the bound.
func (p *Parser) keep(b []byte) {
	if room := p.keepBody - len(p.Body); room > 0 {
		p.Body = append(p.Body, b[:min(len(b), room)]...)
	}
}

// Started reports whether any byte of the response has arrived.
func (p *Parser) Started() bool { return p.gotAny }

// HeadersDone reports whether the final response's headers are complete, so a
// failure now is a failure to read the body.
func (p *Parser) HeadersDone() bool { return p.headerEnd }

// Done reports whether the response is complete.
func (p *Parser) Done() bool { return p.state == stDone }

// KeepAlive reports whether the connection may carry another request.
func (p *Parser) KeepAlive() bool {
	if p.close {
		return false
	}
	if p.http10 {
		return p.keepAlive
	}
	return true
}

// Feed consumes bytes of the response. It returns how many bytes belong to
// this response (the rest, if any, is unsolicited data) and whether the
// response is now complete.
func (p *Parser) Feed(b []byte) (n int, done bool, err error) {
	if len(b) > 0 {
		p.gotAny = true
	}
	for n < len(b) && p.state != stDone {
		switch p.state {
		case stStatus, stHeader, stChunkSize, stTrailer:
			line, used, ok, err := p.nextLine(b[n:])
			n += used
			if err != nil {
				return n, false, err
			}
			if !ok {
				continue // line incomplete: spilled, wait for more
			}
			if err := p.line(line); err != nil {
				return n, false, err
			}
		case stBodyLength, stChunkData:
			k := int64(len(b) - n)
			if k > p.remaining {
				k = p.remaining
			}
			if p.keepBody > 0 {
				p.keep(b[n : n+int(k)])
			}
			n += int(k)
			p.remaining -= k
			if p.remaining == 0 {
				if p.state == stBodyLength {
					p.state = stDone
				} else {
					p.state = stChunkCRLF
					p.remaining = 2
				}
			}
		case stChunkCRLF:
			// Accept CRLF or a bare LF after chunk data.
			c := b[n]
			n++
			switch {
			case c == '\n':
				p.state = stChunkSize
			case c == '\r' && p.remaining == 2:
				p.remaining = 1
			default:
				return n, false, ErrMalformed
			}
		case stBodyClose:
			if p.keepBody > 0 {
				p.keep(b[n:])
			}
			n = len(b)
		}
	}
	p.Bytes += int64(n)
	return n, p.state == stDone, nil
}

// EOF tells the parser the connection closed. A close-delimited body is then
// complete; anything else is truncated.
func (p *Parser) EOF() (done bool, err error) {
	switch p.state {
	case stDone:
		return true, nil
	case stBodyClose:
		p.state = stDone
		p.close = true
		return true, nil
	}
	return false, ErrTruncated
}

// nextLine returns the next complete line of b (without CR LF), joining it with
// a previously spilled part. ok is false when b ended mid-line; the part was
// spilled and used == len(b).
func (p *Parser) nextLine(b []byte) (line []byte, used int, ok bool, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(p.spill)+len(b) > maxLine {
			return nil, len(b), false, ErrLineTooLong
		}
		p.spill = append(p.spill, b...)
		return nil, len(b), false, nil
	}
	used = i + 1
	line = b[:i]
	if len(p.spill) > 0 {
		if len(p.spill)+len(line) > maxLine {
			return nil, used, false, ErrLineTooLong
		}
		p.spill = append(p.spill, line...)
		line = p.spill
		p.spill = p.spill[:0] // the caller is done with line before the next append
	}
	if len(line) > maxLine {
		return nil, used, false, ErrLineTooLong
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, used, true, nil
}

// line handles one complete line in the current state.
func (p *Parser) line(l []byte) error {
	switch p.state {
	case stStatus:
		if len(l) == 0 {
			return nil // tolerate stray blank lines before the status line (RFC 9112 §2.2)
		}
		return p.statusLine(l)
	case stHeader:
		if len(l) == 0 {
			return p.endHeaders()
		}
		if p.keepHead {
			p.Head = append(append(p.Head, l...), '\n')
		}
		return p.header(l)
	case stChunkSize:
		size, ok := parseHex(l)
		if !ok {
			return ErrMalformed
		}
		if size == 0 {
			p.state = stTrailer
			return nil
		}
		p.state = stChunkData
		p.remaining = size
	case stTrailer:
		if len(l) == 0 {
			p.state = stDone
		}
	}
	return nil
}

// statusLine parses "HTTP/1.x SSS reason".
func (p *Parser) statusLine(l []byte) error {
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' {
		return ErrMalformed
	}
	switch l[7] {
	case '0':
		p.http10 = true
	case '1':
	default:
		return ErrMalformed
	}
	s := 0
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return ErrMalformed
		}
		s = s*10 + int(c-'0')
	}
	if len(l) > 12 && l[12] != ' ' {
		return ErrMalformed
	}
	p.Status = s
	p.state = stHeader
	return nil
}

// header looks at the three headers that frame the response.
func (p *Parser) header(l []byte) error {
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return ErrMalformed
	}
	name, value := l[:colon], trimSpace(l[colon+1:])
	switch len(name) {
	case len("content-length"):
		if asciiEqualFold(name, "content-length") {
			n, ok := parseDec(value)
			if !ok || (p.length >= 0 && p.length != n) {
				return ErrMalformed // conflicting lengths are a smuggling hazard
			}
			p.length = n
		}
	case len("transfer-encoding"):
		if asciiEqualFold(name, "transfer-encoding") {
			// The last coding must be chunked for the body to be chunked.
			v := value
			if i := bytes.LastIndexByte(v, ','); i >= 0 {
				v = trimSpace(v[i+1:])
			}
			p.chunked = asciiEqualFold(v, "chunked")
			if !p.chunked {
				p.close = true // some other coding: the body runs to close
			}
		}
	case len("connection"):
		if asciiEqualFold(name, "connection") {
			for v := value; len(v) > 0; {
				tok := v
				if i := bytes.IndexByte(v, ','); i >= 0 {
					tok, v = v[:i], v[i+1:]
				} else {
					v = nil
				}
				switch t := trimSpace(tok); {
				case asciiEqualFold(t, "close"):
					p.close = true
				case asciiEqualFold(t, "keep-alive"):
					p.keepAlive = true
				}
			}
		}
	}
	return nil
}

// endHeaders decides how the body is framed (RFC 9112 §6.3).
func (p *Parser) endHeaders() error {
	s := p.Status
	if s >= 100 && s < 200 && s != 101 {
		// An interim response (100 Continue, 103 Early Hints): the real one follows.
		keep := p.spill
		head := p.head
		*p = Parser{head: head, length: -1, spill: keep, gotAny: true, Bytes: p.Bytes,
			Head: p.Head[:0], Body: p.Body[:0], keepHead: p.keepHead, keepBody: p.keepBody}
		return nil
	}
	p.headerEnd = true
	switch {
	case s == 101:
		// Switching protocols: the connection is no longer HTTP/1.1.
		p.close = true
		p.state = stDone
	case p.head || s == 204 || s == 304:
		p.state = stDone
	case p.chunked:
		p.state = stChunkSize
	case p.length >= 0:
		if p.length == 0 {
			p.state = stDone
		} else {
			p.state = stBodyLength
			p.remaining = p.length
		}
	default:
		p.state = stBodyClose
		p.close = true
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// asciiEqualFold compares b to the lower-case ASCII string s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// parseDec parses a non-negative decimal of at most 18 digits.
func parseDec(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk-size line: hex digits, then optional extensions.
func parseHex(b []byte) (int64, bool) {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	b = trimSpace(b)
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}
