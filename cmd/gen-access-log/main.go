// Command gen-access-log writes an Apache combined-format access log of a
// given number of lines to standard output (or a file), deterministically
// from a seed. testdata/access_log_small.txt is its output for the defaults:
//
//	go run ./cmd/gen-access-log -lines 300 > testdata/access_log_small.txt
//	go run ./cmd/gen-access-log -lines 1000000 -o /tmp/access_1m.log   # about 200 MB
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tributary-io/tributary/cmd/internal/accesslog"
)

// defaultStart is the time stamp of the first line with default flags.
var defaultStart = time.Date(2026, 3, 12, 14, 2, 11, 0, time.UTC)

func main() {
	lines := flag.Int("lines", 300, "number of lines to write")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same log")
	out := flag.String("o", "", "output file (default standard output)")
	flag.Parse()
	if flag.NArg() > 0 || *lines < 0 {
		flag.Usage()
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen-access-log:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := accesslog.New(*seed, defaultStart).WriteLines(w, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "gen-access-log:", err)
		os.Exit(1)
	}
}
