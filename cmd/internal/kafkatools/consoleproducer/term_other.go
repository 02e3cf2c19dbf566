//go:build !linux

package consoleproducer

import (
	"io"
	"os"
)

// isTerminal reports whether r is a terminal (here: a character device), so
// that the console producer prompts only a person typing.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
