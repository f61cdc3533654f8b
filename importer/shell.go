package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fuka-load/fuka/tmpl"
)

// shellWords splits a bash command line into words the way bash would
// before running it: '...' is literal, "..." knows \" \\ \$ \` and
// backslash-newline, $'...' is ANSI-C quoting (\n, \t, \xHH, \uHHHH, \NNN…),
// a backslash outside quotes escapes the next character and a
// backslash-newline joins lines. $NAME and ${NAME} outside single quotes
// are environment variables: they come back marked (ref) and in vars.
//
// The command ends at an unquoted |, ;, &, < or > (what follows is another
// command or a redirection); rest is what was cut off.
func shellWords(line string) (words, vars []string, rest string, err error) {
	line = scrub(line)
	var (
		cur    strings.Builder
		inWord bool
		seen   = map[string]bool{}
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	// dollar reads $NAME or ${NAME} at line[i] ('$'); it returns how many
	// bytes it used, 0 when it is a literal $.
	dollar := func(i int) int {
		j := i + 1
		braced := j < len(line) && line[j] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(line) && (line[k] == '_' || isAlnum(line[k])) {
			k++
		}
		if k == j || isDigit(line[j]) || tmpl.IsFunc(line[j:k]) {
			return 0 // $1, or a name templates read as a function: literal
		}
		name := line[j:k]
		if braced {
			if k >= len(line) || line[k] != '}' {
				return 0
			}
			k++
		}
		cur.WriteString(ref(name))
		if !seen[name] {
			seen[name] = true
			vars = append(vars, name)
		}
		return k - i
	}
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			end()
			i++
		case c == '\\':
			// A backslash-newline joins lines (and starts no word); any
			// other escaped character is literal.
			switch {
			case strings.HasPrefix(line[i+1:], "\r\n"):
				i += 3
			case i+1 < len(line) && line[i+1] == '\n':
				i += 2
			case i+1 < len(line):
				_, n := utf8.DecodeRuneInString(line[i+1:])
				cur.WriteString(line[i+1 : i+1+n])
				inWord = true
				i += 1 + n
			default:
				i++
			}
		case c == '#' && !inWord:
			for i < len(line) && line[i] != '\n' {
				i++
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, nil, "", fmt.Errorf("unterminated ' quote at offset %d", i)
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '$' && i+1 < len(line) && line[i+1] == '\'':
			s, n, err := ansiC(line[i+2:])
			if err != nil {
				return nil, nil, "", fmt.Errorf("$'...' at offset %d: %w", i, err)
			}
			cur.WriteString(s)
			inWord = true
			i += 2 + n
		case c == '"' || c == '$' && i+1 < len(line) && line[i+1] == '"':
			if c == '$' {
				i++ // $"..." is a translated string: the same as "..." here
			}
			start := i
			i++
			inWord = true
			for {
				if i >= len(line) {
					return nil, nil, "", fmt.Errorf(`unterminated " quote at offset %d`, start)
				}
				d := line[i]
				if d == '"' {
					i++
					break
				}
				if d == '\\' && i+1 < len(line) {
					switch line[i+1] {
					case '"', '\\', '$', '`':
						cur.WriteByte(line[i+1])
						i += 2
						continue
					case '\n':
						i += 2
						continue
					}
				}
				if d == '$' {
					if n := dollar(i); n > 0 {
						i += n
						continue
					}
				}
				cur.WriteByte(d)
				i++
			}
		case c == '$':
			inWord = true
			if n := dollar(i); n > 0 {
				i += n
				continue
			}
			cur.WriteByte(c)
			i++
		case strings.IndexByte("|;&<>", c) >= 0:
			end()
			return words, vars, strings.TrimSpace(line[i:]), nil
		default:
			inWord = true
			cur.WriteByte(c)
			i++
		}
	}
	end()
	return words, vars, "", nil
}

// ansiC decodes the body of a $'...' string up to its closing quote; n is
// the bytes used, the quote included.
func ansiC(s string) (string, int, error) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\'' {
			return b.String(), i + 1, nil
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '?':
			b.WriteByte(e)
		case 'c':
			if i < len(s) {
				b.WriteByte(s[i] & 0x1f)
				i++
			}
		case 'x', 'u', 'U':
			most := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			j := i
			for j < len(s) && j-i < most && isHex(s[j]) {
				j++
			}
			if j == i {
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			n, _ := strconv.ParseUint(s[i:j], 16, 32)
			if e == 'x' {
				b.WriteByte(byte(n))
			} else if r := rune(n); utf8.ValidRune(r) {
				b.WriteRune(r)
			} else {
				b.WriteRune(utf8.RuneError)
			}
			i = j
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i - 1
			for j < len(s) && j-(i-1) < 3 && '0' <= s[j] && s[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[i-1:j], 8, 32)
			b.WriteByte(byte(n))
			i = j
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, fmt.Errorf("unterminated quote")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
