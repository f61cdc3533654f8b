//go:build !linux

package engine

import (
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// newFastSources reports that the event-loop fast path is Linux-only; other
// systems use net/http.
func newFastSources(*Config, Request, int, time.Time) ([]source, []*metrics.Recorder, error) {
	return nil, nil, errNoFast
}

// newFastPlanSources: see newFastSources.
func newFastPlanSources(*Config, LoopScenario, int, time.Time, func()) ([]source, []*metrics.Recorder, error) {
	return nil, nil, errNoFast
}

// newFastPartSources: see newFastSources.
func newFastPartSources(*Config, Parts, int, time.Time, func()) ([]source, []*metrics.Recorder, error) {
	return nil, nil, errNoFast
}
