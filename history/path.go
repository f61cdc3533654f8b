package history

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultPath is where the history lives unless --history says otherwise:
// $XDG_DATA_HOME/fuka/history.db, else ~/.local/share/fuka/history.db; on
// macOS and Windows, which have no XDG convention, fuka/history.db in the
// user's configuration directory (~/Library/Application Support, %AppData%).
func DefaultPath() (string, error) {
	return defaultPath(runtime.GOOS, os.Getenv, os.UserHomeDir, os.UserConfigDir)
}

func defaultPath(goos string, getenv func(string) string, home, config func() (string, error)) (string, error) {
	// The XDG base directory spec ignores a relative $XDG_DATA_HOME.
	if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "fuka", "history.db"), nil
	}
	switch goos {
	case "darwin", "ios", "windows", "plan9":
		dir, err := config()
		if err != nil {
			return "", fmt.Errorf("history: no default database path (%w); pass --history FILE", err)
		}
		return filepath.Join(dir, "fuka", "history.db"), nil
	}
	dir, err := home()
	if err != nil {
		return "", fmt.Errorf("history: no default database path (%w); pass --history FILE", err)
	}
	return filepath.Join(dir, ".local", "share", "fuka", "history.db"), nil
}
