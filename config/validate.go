package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case time.Duration:
		return float64(n / time.Millisecond), true
	}
	return 0, false
}

func fmtNum(f float64) string { return fmt.Sprintf("%g", f) }

// Range accepts numbers (and durations, in ms) from min to max inclusive.
func Range(min, max float64) Validator {
	return func(v any) error {
		f, ok := asFloat(v)
		if !ok {
			return fmt.Errorf("is not a number")
		}
		if f < min || f > max {
			return fmt.Errorf("must be between %s and %s", fmtNum(min), fmtNum(max))
		}
		return nil
	}
}

// AtLeast accepts numbers (and durations, in ms) of min or more.
func AtLeast(min float64) Validator {
	return func(v any) error {
		f, ok := asFloat(v)
		if !ok {
			return fmt.Errorf("is not a number")
		}
		if f < min {
			return fmt.Errorf("must be at least %s", fmtNum(min))
		}
		return nil
	}
}

// OneOf accepts strings equal (ignoring case) to one of allowed; for lists,
// every element must be.
func OneOf(allowed ...string) Validator {
	check := func(s string) error {
		for _, a := range allowed {
			if strings.EqualFold(s, a) {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
	return func(v any) error {
		switch x := v.(type) {
		case string:
			return check(x)
		case []string:
			for _, s := range x {
				if err := check(s); err != nil {
					return fmt.Errorf("has %q, which %w", s, err)
				}
			}
			return nil
		}
		return errors.New("is not a string")
	}
}

// NonEmpty rejects the empty string and the empty list.
func NonEmpty() Validator {
	return func(v any) error {
		switch x := v.(type) {
		case string:
			if strings.TrimSpace(x) == "" {
				return errors.New("must not be empty")
			}
		case []string:
			if len(x) == 0 {
				return errors.New("must not be an empty list")
			}
		}
		return nil
	}
}

// All combines validators; the first failure is reported.
func All(vs ...Validator) Validator {
	return func(v any) error {
		for _, f := range vs {
			if err := f(v); err != nil {
				return err
			}
		}
		return nil
	}
}

// Topic accepts a legal topic name (TopicName); for a List, every element.
func Topic() Validator {
	return func(v any) error {
		switch t := v.(type) {
		case string:
			return TopicName(t)
		case []string:
			for _, name := range t {
				if err := TopicName(name); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
