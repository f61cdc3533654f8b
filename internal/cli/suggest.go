package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// suggestFlag is every command's FlagErrorFunc: an unknown --flag close
// to one the command has gets "did you mean --clients?", as a mistyped
// command gets cobra's suggestion. pflag has none of its own. A JSON
// document given to -d, which curl and other load testers read as the
// body, is told where the body goes.
func suggestFlag(c *cobra.Command, err error) error {
	if hint := bodyAsDuration(c, err); hint != "" {
		return fmt.Errorf("%w (%s)", err, hint)
	}
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedShortnames() != "" {
		return err
	}
	typed := ne.GetSpecifiedName()
	if names := closeFlags(c.Flags(), typed); len(names) > 0 {
		return fmt.Errorf("%w (did you mean --%s?)", err, strings.Join(names, " or --"))
	}
	return err
}

// bodyAsDuration is the hint for a duration flag given what looks like a
// JSON document, on a command that takes a body: -d is --duration here,
// as in wrk and hey, while curl's -d and the grpcurl/ghz -d are the data.
func bodyAsDuration(c *cobra.Command, err error) string {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) || iv.GetFlag() == nil || iv.GetFlag().Value.Type() != "duration" || c.Flags().Lookup("body") == nil {
		return ""
	}
	v := strings.TrimSpace(iv.GetValue())
	if v == "" || !strings.ContainsRune("{[\"", rune(v[0])) {
		return ""
	}
	f, is := iv.GetFlag(), "--"+iv.GetFlag().Name+" is a duration"
	if f.Shorthand != "" {
		is = "-" + f.Shorthand + " is --" + f.Name
	}
	return is + "; the request body or a gRPC call's message is -b/--body, a WebSocket's --ws-send"
}

// closeFlags returns the visible flags of fs nearest to typed: within an
// edit distance of 2 (1 for names of up to 4 letters, where 2 edits make
// most names alike), or of which typed is a prefix of 3 letters or more.
// Several equally near are all returned, in the order fs lists them.
func closeFlags(fs *pflag.FlagSet, typed string) []string {
	best, names := -1, []string(nil)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(typed, f.Name)
		limit := 2
		if len(f.Name) <= 4 {
			limit = 1
		}
		if d > limit {
			if len(typed) < 3 || !strings.HasPrefix(f.Name, typed) {
				return
			}
			d = limit + 1 // a prefix ranks after every typo within the limit
		}
		switch {
		case best < 0 || d < best:
			best, names = d, []string{f.Name}
		case d == best:
			names = append(names, f.Name)
		}
	})
	return names
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of two adjacent letters
// ("clinets" for "clients") cost 1 each.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
