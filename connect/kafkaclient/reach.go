package kafkaclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Reachable checks that a broker of cl answers a metadata request within d,
// so that a command pointed at the wrong address fails in seconds with one
// clear error instead of retrying for minutes. The error names the seed
// brokers and, when a connection was refused or failed, why.
func Reachable(ctx context.Context, cl *kgo.Client, d time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := cl.Ping(pctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	seeds, _ := cl.OptValue(kgo.SeedBrokers).([]string)
	where := strings.Join(seeds, ",")
	if errors.Is(err, context.DeadlineExceeded) || pctx.Err() != nil {
		return fmt.Errorf("no broker at %s answered within %v", where, d)
	}
	return fmt.Errorf("cannot reach a broker at %s: %w", where, err)
}
