// Package results reads the result files of other load tools — JMeter,
// Locust, k6, vegeta, wrk, hey and bombardier — into fuka's
// [report.Summary], so that fuka's history stores such a run and fuka
// compare sets it beside fuka's own.
//
// Where a file holds every request (JMeter .jtl, vegeta results, k6 JSON
// lines), the requests are recorded into fuka's HDR histograms, so its
// percentiles and per-second timeline are computed exactly as for a fuka
// run. Where it holds only the tool's own figures (wrk, hey, bombardier,
// Locust, k6's summary), they are copied as given and the summary says so
// ([report.Imported]); what the file lacks is listed as not measured,
// never filled with a 0 that would read as a measurement.
//
// Every parser streams its input with bounded memory (lines, names and
// per-second buckets are capped) and returns an error, never a panic, on
// input it cannot read.
package results

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fuka-load/fuka/report"
)

// The formats, as --format names them.
const (
	JTLCSV        = "jtl-csv"        // JMeter results, CSV with a header line
	JTLXML        = "jtl-xml"        // JMeter results, XML
	LocustStats   = "locust-stats"   // locust --csv PREFIX: PREFIX_stats.csv
	LocustHistory = "locust-history" // locust --csv PREFIX --csv-full-history or not: PREFIX_stats_history.csv
	K6Summary     = "k6-summary"     // k6 run --summary-export FILE
	K6JSON        = "k6-json"        // k6 run --out json=FILE
	VegetaGob     = "vegeta-gob"     // vegeta attack's default (binary) output
	VegetaJSON    = "vegeta-json"    // vegeta encode --to json (one result a line)
	Wrk           = "wrk"            // wrk's text output (with or without --latency)
	Hey           = "hey"            // hey's text output
	Bombardier    = "bombardier"     // bombardier -o json -p r (or -p i,r)
)

// Formats lists every format, in the order the docs describe them.
var Formats = []string{JTLCSV, JTLXML, LocustStats, LocustHistory, K6Summary, K6JSON, VegetaGob, VegetaJSON, Wrk, Hey, Bombardier}

// Limits that keep a hostile or broken file from taking unbounded memory.
const (
	maxLine = 1 << 20 // bytes in one line (CSV row, JSON line)
	// maxText bounds the formats read whole: text reports and summary
	// JSON, which are a few kilobytes when real.
	maxText = 8 << 20
	// maxNames bounds the distinct request names kept apart (each holds
	// two histograms); later names are counted under otherNames.
	maxNames = 200
	// maxSeconds bounds the per-second timeline (a day); requests later
	// than that count in the totals but not on the timeline.
	maxSeconds = 86400
)

// otherNames collects the requests of names beyond maxNames.
const otherNames = "(other names)"

// ErrFormat: the input is not in the format named or detected.
var ErrFormat = errors.New("not a recognised result file")

// Options tell Import what it cannot read from the file.
type Options struct {
	Format string // one of the format constants; "" detects it
	Name   string // the run's name in the history; "" = the tool's name
	File   string // where the input came from, for messages and the summary
	// Version is fuka's version, written as the summary's fuka_version.
	Version string
}

// Import reads one result file from r and returns it as a summary.
func Import(r io.Reader, opt Options) (*report.Summary, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// k6 writes --out json=FILE.gz compressed, and any file may have been
	// gzipped to keep: read through it (still streamed, still bounded).
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", orStdin(opt.File), err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	format := opt.Format
	if format == "" {
		head, _ := br.Peek(16 << 10)
		var err error
		if format, err = Detect(head); err != nil {
			return nil, err
		}
	} else if !slices.Contains(Formats, format) {
		return nil, formatErr(format)
	}
	sum, err := parse(format, br)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", orStdin(opt.File), format, err)
	}
	sum.Version = opt.Version
	sum.Imported.Format = format
	sum.Imported.File = opt.File
	sum.Name = opt.Name
	if sum.Name == "" {
		sum.Name = sum.Imported.Tool
	}
	// The notes go among the warnings too, so that every view of a run
	// (fuka report, its HTML) shows them without knowing about imports.
	sum.Warnings = append(sum.Warnings, sum.Imported.Notes...)
	return sum, nil
}

func orStdin(file string) string {
	if file == "" || file == "-" {
		return "stdin"
	}
	return file
}

func parse(format string, r *bufio.Reader) (*report.Summary, error) {
	switch format {
	case JTLCSV:
		return parseJTLCSV(r)
	case JTLXML:
		return parseJTLXML(r)
	case LocustStats:
		return parseLocustStats(r)
	case LocustHistory:
		return parseLocustHistory(r)
	case K6Summary:
		return parseK6Summary(r)
	case K6JSON:
		return parseK6JSON(r)
	case VegetaGob:
		return parseVegetaGob(r)
	case VegetaJSON:
		return parseVegetaJSON(r)
	case Wrk:
		return parseWrk(r)
	case Hey:
		return parseHey(r)
	case Bombardier:
		return parseBombardier(r)
	}
	return nil, fmt.Errorf("%w: unknown format %q", ErrFormat, format)
}

// Detect tells the format from the start of a file.
func Detect(head []byte) (string, error) {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	first, _, _ := bytes.Cut(t, []byte("\n"))
	first = bytes.TrimSpace(first)
	switch {
	case len(t) == 0:
		return "", fmt.Errorf("%w: the file is empty", ErrFormat)
	case bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<testResults")):
		return JTLXML, nil
	case bytes.HasPrefix(first, []byte("timeStamp,")) || bytes.HasPrefix(first, []byte(`"timeStamp",`)):
		return JTLCSV, nil
	case bytes.HasPrefix(first, []byte("Timestamp,User Count,")):
		return LocustHistory, nil
	case bytes.HasPrefix(first, []byte("Type,Name,Request Count,")):
		return LocustStats, nil
	case bytes.HasPrefix(t, []byte("Running ")) && bytes.Contains(t, []byte(" test @ ")):
		return Wrk, nil
	case bytes.HasPrefix(t, []byte("Summary:")) && bytes.Contains(t, []byte("Requests/sec:")):
		return Hey, nil
	case bytes.HasPrefix(t, []byte("Bombarding ")):
		return Bombardier, nil
	case t[0] == '{':
		return detectJSON(first, t), nil
	}
	// vegeta's gob stream starts with the type definition of its Result.
	if bytes.Contains(head, []byte("Result")) && bytes.Contains(head, []byte("Latency")) && bytes.Contains(head, []byte("Timestamp")) {
		return VegetaGob, nil
	}
	return "", fmt.Errorf("%w: not JMeter (.jtl), Locust (--csv), k6 (--summary-export, --out json), vegeta, wrk, hey or bombardier output; name it with --format (%s)",
		ErrFormat, strings.Join(Formats, ", "))
}

// detectJSON tells the JSON formats apart by their keys.
func detectJSON(first, all []byte) string {
	switch {
	case bytes.Contains(first, []byte(`"type":"Metric"`)) || bytes.Contains(first, []byte(`"type":"Point"`)):
		return K6JSON
	case bytes.Contains(first, []byte(`"latency":`)) && bytes.Contains(first, []byte(`"timestamp":`)) && bytes.Contains(first, []byte(`"code":`)):
		return VegetaJSON
	case bytes.Contains(all, []byte(`"timeTakenSeconds"`)) || bytes.Contains(all, []byte(`"spec"`)) && bytes.Contains(all, []byte(`"numberOfConnections"`)):
		return Bombardier
	}
	return K6Summary
}

// importedAs starts a summary's Imported part.
func importedAs(tool, percentiles string, notMeasured []string, notes ...string) *report.Imported {
	return &report.Imported{Tool: tool, Percentiles: percentiles, NotMeasured: notMeasured, Notes: notes}
}

// The notes that recur: what a tool's load model does to its latencies.
const (
	noteClosedCO = "%s runs a closed model: a client waits for each response before it sends the next request, " +
		"so when the service slows down fewer requests are sent and the waiting this causes is not in the latencies " +
		"(coordinated omission); fuka's open model (--rate) measures from each request's intended start"
	noteGiven = "%s's percentiles are copied as it reported them; they cannot be recomputed or merged"
)

func closedNote(tool string) string { return fmt.Sprintf(noteClosedCO, tool) }
func givenNote(tool string) string  { return fmt.Sprintf(noteGiven, tool) }

// ms converts a duration in milliseconds, as tools report it, to fuka's
// summary unit rounded to the microsecond.
func ms(v float64) float64 {
	return float64(time.Duration(v*float64(time.Millisecond)).Round(time.Microsecond)) / float64(time.Millisecond)
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprint(n) + " " + what + "s"
}

func formatErr(format string) error {
	return fmt.Errorf("--format %q: want one of %s", format, strings.Join(Formats, ", "))
}
