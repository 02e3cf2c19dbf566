// Package latency forwards to cmd/internal/latency, where the measurement
// now lives, for the tests of cmd/tributary that still import this path.
//
// Deprecated: import github.com/tributary-io/tributary/cmd/internal/latency.
// This package goes once cmd/tributary's tests do.
package latency

import (
	"context"

	"github.com/tributary-io/tributary/cmd/internal/latency"
)

// Config is latency.Config.
type Config = latency.Config

// Result is latency.Result.
type Result = latency.Result

// Measure is latency.Measure.
func Measure(ctx context.Context, cfg Config) (Result, error) { return latency.Measure(ctx, cfg) }
