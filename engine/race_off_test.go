//go:build !race

package engine

// raceEnabled tells tests that count allocations to step aside.
const raceEnabled = false
