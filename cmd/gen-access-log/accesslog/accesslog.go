// Package accesslog forwards to cmd/internal/accesslog, where the generator
// now lives, for the tests of cmd/tributary that still import this path.
//
// Deprecated: import github.com/tributary-io/tributary/cmd/internal/accesslog.
// This package goes once cmd/tributary's tests do.
package accesslog

import (
	"time"

	"github.com/tributary-io/tributary/cmd/internal/accesslog"
)

// Generator is accesslog.Generator.
type Generator = accesslog.Generator

// New is accesslog.New.
func New(seed uint64, start time.Time) *Generator { return accesslog.New(seed, start) }
