package perf

import (
	"fmt"

	"github.com/tributary-io/tributary/connect/data"
)

// parseDateFormat compiles --date-format, a java.text.SimpleDateFormat
// pattern as consumer-perf-test's. Times are formatted in their own
// location: time.Now's is the local one, as Java's default time zone.
func parseDateFormat(pattern string) (*data.DateFormat, error) {
	f, err := data.ParseDateFormat(pattern)
	if err != nil {
		return nil, fmt.Errorf("date format %q: %w", pattern, err)
	}
	return f, nil
}
