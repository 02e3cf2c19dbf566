package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// pipeline times a producer and a consumer that run at the same time, the
// way the worker's drain runs its source and sink: the consumer starts
// first, the producer right after it, and the clock runs from the
// producer's start until the consumer's output file has every byte (its
// last line written), read as often as the drain reads its sink file. Both
// must then exit cleanly.
type pipeline struct {
	consumer, producer *exec.Cmd     // not started; the consumer's Stdout is out
	out                string        // the consumer's output file
	want               int64         // out's size once everything has arrived
	poll               time.Duration // how often out's size is read
	timeout            time.Duration // for the whole run, exits included
}

// pipelineTimes is one run of a pipeline.
type pipelineTimes struct {
	consumerStart, producerStart, done time.Time
	producerCPU, consumerCPU           time.Duration // user + system
}

// elapsed is the time from the producer's start until the output was
// complete.
func (t pipelineTimes) elapsed() time.Duration { return t.done.Sub(t.producerStart) }

// run starts the consumer, then the producer, and waits for the output to
// be complete and both to exit. On an error, what still runs is killed.
func (pl *pipeline) run(ctx context.Context) (pipelineTimes, error) {
	var t pipelineTimes
	deadline := time.Now().Add(pl.timeout)
	t.consumerStart = time.Now()
	cons, err := startCmd("consumer "+pl.consumer.Path, pl.consumer)
	if err != nil {
		return t, err
	}
	defer cons.kill()
	t.producerStart = time.Now()
	prod, err := startCmd("producer "+pl.producer.Path, pl.producer)
	if err != nil {
		return t, err
	}
	defer prod.kill()

	for fileSize(pl.out) < pl.want {
		switch {
		case cons.exited():
			if got := fileSize(pl.out); got < pl.want {
				return t, fmt.Errorf("ended with %d of %d bytes written: %w", got, pl.want, cons.failure())
			}
			continue // it wrote the rest as it ended
		case prod.exited() && prod.err != nil:
			return t, prod.failure()
		case time.Now().After(deadline):
			return t, fmt.Errorf("timed out after %v with %d of %d bytes in %s", pl.timeout, fileSize(pl.out), pl.want, pl.out)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(pl.poll):
		}
	}
	t.done = time.Now()

	for _, p := range []*proc{prod, cons} {
		select {
		case <-p.done:
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(time.Until(deadline)):
			return t, fmt.Errorf("%s did not exit within %v of the pipeline's start", p.name, pl.timeout)
		}
		if p.err != nil {
			return t, p.failure()
		}
	}
	if size := fileSize(pl.out); size != pl.want {
		return t, fmt.Errorf("%s has %d bytes once both ended, want %d", pl.out, size, pl.want)
	}
	ps, cs := prod.cmd.ProcessState, cons.cmd.ProcessState
	t.producerCPU = ps.UserTime() + ps.SystemTime()
	t.consumerCPU = cs.UserTime() + cs.SystemTime()
	return t, nil
}
