package plan

import _ "embed" // Starter

// Starter is what `fuka init` writes: a commented plan that runs against
// the target of `fuka demo --serve`. PLANFILE stands for the file's name.
//
//go:embed starter.yaml
var Starter string
