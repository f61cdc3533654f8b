package report

// Imported says that a run was made by another load tool and read from its
// result file by fuka import-results: which tool, which file, and what the
// tool measured and what it could not, so that a comparison with one of
// fuka's runs says how far the numbers are alike.
type Imported struct {
	Tool   string `json:"tool"`   // e.g. "wrk", "JMeter", "vegeta"
	Format string `json:"format"` // the importer's format name, e.g. "jtl-csv"
	File   string `json:"file"`   // the file it was read from, as given
	// Percentiles is PercentilesRecomputed when the file held every
	// request and fuka's HDR histograms computed them, PercentilesGiven
	// when they are the tool's own figures, copied.
	Percentiles string `json:"percentiles"`
	// NotMeasured names what the file does not hold, by the summary's
	// JSON keys (e.g. "latency.p95_ms", "timeline", "bytes_out"); those
	// fields are 0 or empty, and compare shows them as not measured.
	NotMeasured []string `json:"not_measured"`
	// Notes are what the reader must know to trust the numbers, e.g. that
	// a closed-model tool's latencies miss the waiting it caused
	// (coordinated omission). They are also among the summary's warnings.
	Notes []string `json:"notes"`
}

// How an imported run's percentiles were obtained.
const (
	PercentilesRecomputed = "recomputed from raw samples"
	PercentilesGiven      = "as given by the tool"
)

// Missing reports whether the imported file did not measure key (a JSON
// key of the summary, as NotMeasured names them). A nil Imported (one of
// fuka's own runs) measured everything.
func (im *Imported) Missing(key string) bool {
	if im == nil {
		return false
	}
	for _, k := range im.NotMeasured {
		if k == key {
			return true
		}
	}
	return false
}
