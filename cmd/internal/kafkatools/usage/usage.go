// Package usage marks the errors that are a person's misuse of a command
// line (a flag that does not go with another, a value that cannot be
// parsed, a missing argument), as opposed to a failure while running. The
// tributary command exits with 2 for the first and 1 for the second, and
// shows the usage hint only for the first.
package usage

import (
	"errors"
	"fmt"
)

// Error is a usage error; its message is the wrapped error's.
type Error struct{ Err error }

func (e Error) Error() string { return e.Err.Error() }
func (e Error) Unwrap() error { return e.Err }

// Errorf formats a usage error, as fmt.Errorf does.
func Errorf(format string, args ...any) error {
	return Error{fmt.Errorf(format, args...)}
}

// Wrap marks err as a usage error; nil stays nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return Error{err}
}

// Is reports whether err, or an error it wraps, is a usage error.
func Is(err error) bool {
	var ue Error
	return errors.As(err, &ue)
}
