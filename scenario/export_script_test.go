package scenario

// SetMaxScriptSteps sets the step bound of a script iteration and returns
// a function that restores it.
func SetMaxScriptSteps(n uint64) func() {
	old := maxScriptSteps
	maxScriptSteps = n
	return func() { maxScriptSteps = old }
}
