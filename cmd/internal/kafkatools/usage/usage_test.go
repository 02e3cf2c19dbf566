package usage

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	err := Errorf("--partitions must be greater than %d", 0)
	if !Is(err) || err.Error() != "--partitions must be greater than 0" {
		t.Fatalf("Errorf: %v", err)
	}
	if wrapped := fmt.Errorf("topics: %w", err); !Is(wrapped) {
		t.Fatal("a wrapped usage error is not one")
	}
	cause := fmt.Errorf("open x: %w", fs.ErrNotExist)
	if err := Wrap(cause); !Is(err) || !errors.Is(err, fs.ErrNotExist) || err.Error() != cause.Error() {
		t.Fatalf("Wrap: %v", err)
	}
	if Wrap(nil) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
	if Is(cause) || Is(nil) {
		t.Fatal("a plain error is taken for a usage error")
	}
}
