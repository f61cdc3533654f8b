//go:build !race

package scenario_test

// raceEnabled tells tests that count allocations to step aside.
const raceEnabled = false
