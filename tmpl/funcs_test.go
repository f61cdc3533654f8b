package tmpl

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// stringCases exercise the string functions against the standard library.
var stringCases = []string{
	"", "a", "ab", "abc", "abcd", "Hello, World!", "a b&c=d/e?f#g", "-_.~", "ÀÉÎõü straße ǅ",
	"\xff\xfe invalid", "\x00\x01\x7f", "İı", "ΣΑΣ", strings.Repeat("xyz", 100),
}

func TestStringFuncsMatchStdlib(t *testing.T) {
	for _, s := range stringCases {
		checkStringFuncs(t, s)
	}
}

// checkStringFuncs compares the string and []byte forms of each function
// with the standard library on s.
func checkStringFuncs(t *testing.T, s string) {
	t.Helper()
	check := func(fn string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s(%q) = %q, want %q", fn, s, got, want)
		}
	}
	b := []byte(s)
	check("base64", appendBase64(nil, s), base64.StdEncoding.EncodeToString(b))
	check("base64 bytes", appendBase64(nil, b), base64.StdEncoding.EncodeToString(b))
	check("urlquery", appendQueryEscape(nil, s), url.QueryEscape(s))
	check("urlquery bytes", appendQueryEscape(nil, b), url.QueryEscape(s))
	check("lower", appendLower(nil, s), strings.ToLower(s))
	check("lower bytes", appendLower(nil, b), strings.ToLower(s))
	check("upper", appendUpper(nil, s), strings.ToUpper(s))
	check("upper bytes", appendUpper(nil, b), strings.ToUpper(s))
}

func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "+7", "007", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999999", "", "-", "+", "1.5", " 1", "1e3", "x"} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt(s)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("parseInt(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
		}
	}
}

func TestRandRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range [][2]int64{{1, 10}, {-5, 5}, {0, 0}, {math.MinInt64, math.MaxInt64}, {math.MaxInt64 - 1, math.MaxInt64}, {math.MinInt64, math.MinInt64 + 1}} {
		seen := map[int64]bool{}
		for range 1000 {
			v := randRange(r, c[0], c[1])
			if v < c[0] || v > c[1] {
				t.Fatalf("randRange(%d, %d) = %d", c[0], c[1], v)
			}
			seen[v] = true
		}
		if span := uint64(c[1]) - uint64(c[0]); span < 20 && uint64(len(seen)) != span+1 {
			t.Errorf("randRange(%d, %d) hit %d of %d values", c[0], c[1], len(seen), span+1)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUID(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	for range 1000 {
		u := string(appendUUID(nil, r))
		if !uuidRE.MatchString(u) {
			t.Fatalf("%q is not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("%q twice", u)
		}
		seen[u] = true
	}
}

func TestRandString(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	counts := map[byte]int{}
	const n = 62 * 1000
	s := appendRandString(nil, r, n)
	if len(s) != n {
		t.Fatalf("len = %d, want %d", len(s), n)
	}
	for _, c := range s {
		counts[c]++
	}
	if len(counts) != len(alnum) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(alnum))
	}
	for c, k := range counts {
		if !strings.ContainsRune(alnum, rune(c)) || k < 800 || k > 1200 {
			t.Errorf("character %q drawn %d times of %d (want about 1000)", c, k, n)
		}
	}
}

// TestFunctionsDocumented keeps the package doc and functions.md in step
// with the function table.
func TestFunctionsDocumented(t *testing.T) {
	md, err := os.ReadFile("functions.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for name := range funcs {
		if !strings.Contains(string(md), "| `"+name) {
			t.Errorf("functions.md has no row for %s", name)
		}
		if !strings.Contains(string(doc), "//\t"+name) {
			t.Errorf("doc.go has no row for %s", name)
		}
	}
}
