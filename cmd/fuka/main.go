// Command fuka is a load-testing system: attack, monitor, profile, report.
package main

import (
	"os"

	"github.com/fuka-load/fuka/internal/cli"
)

func main() { os.Exit(cli.Run()) }
