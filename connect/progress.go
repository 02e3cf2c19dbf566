package connect

import (
	"math"
	"strconv"
	"time"
)

// A connector is behind while its source tasks have more than
// behindBytes of their files left to read, or its sink tasks more than
// behindRecords left to consume; below that it keeps up with what is
// written (a tailed file always has a little unread).
const (
	behindBytes   = 1 << 20
	behindRecords = 10000

	logBehindEvery = 5  // samples between lines while behind
	logSteadyEvery = 30 // samples between lines while keeping up, when there is traffic
)

// progressState is what the progress loop remembers of a connector
// between samples.
type progressState struct {
	started    bool
	behind     bool
	since      time.Time // when the connector fell behind (or started)
	sinceRecs  int64     // records then
	lastLog    time.Time
	lastRecs   int64 // records at lastLog
	lastBytes  int64 // read bytes at lastLog
	lastSample time.Time
}

// progressTick samples the connector's tasks at now: each task's
// records_per_second becomes the rate since the previous sample. It then
// logs, as a person would want to read it:
//
//   - while behind (catching up on a file, or a sink's lag), a line every
//     logBehindEvery samples with the current rate, the bytes read of the
//     files' size and the time left at that rate;
//   - once, "caught up", when it reaches the end (also after the start),
//     with how long it took;
//   - while keeping up, a line every logSteadyEvery samples when records
//     moved.
func (c *connectorRuntime) progressTick(now time.Time, every time.Duration) {
	ps := &c.prog
	if !ps.started {
		// The connector starts behind: reaching the end is said once.
		ps.started, ps.behind, ps.since, ps.lastLog, ps.lastSample = true, true, now, now, now
	}
	dt := now.Sub(ps.lastSample).Seconds()
	if dt <= 0 {
		dt = every.Seconds()
	}
	ps.lastSample = now
	var recs, readB, sizeB, lag int64
	var source bool
	for _, t := range c.taskList() {
		n := t.stats.records.Load()
		d := n - t.stats.lastRecs.Swap(n)
		t.stats.rate.Store(math.Float64bits(float64(d) / dt))
		recs += n
		p := t.progress()
		if p.ReadBytes != nil {
			readB += *p.ReadBytes
			sizeB += *p.SizeBytes
			source = true
		}
		if p.Lag != nil {
			lag += *p.Lag
		}
	}
	behind := source && sizeB-readB > behindBytes || lag > behindRecords
	sinceLog := now.Sub(ps.lastLog)
	rate := 0.0
	if s := sinceLog.Seconds(); s > 0 {
		rate = float64(recs-ps.lastRecs) / s
	}
	mark := func() { ps.lastLog, ps.lastRecs, ps.lastBytes = now, recs, readB }
	switch {
	case behind && !ps.behind:
		ps.behind, ps.since, ps.sinceRecs = true, now, recs
		mark()
	case behind && sinceLog >= logBehindEvery*every:
		args := []any{"records", recs, "lines_per_sec", strconv.FormatFloat(rate, 'f', 0, 64)}
		var left float64 // seconds at the current rate; 0 when unknown
		if source {
			args = append(args, "read_bytes", readB, "size_bytes", sizeB,
				"read_percent", strconv.FormatFloat(100*float64(readB)/float64(max(sizeB, 1)), 'f', 1, 64))
			if br := float64(readB-ps.lastBytes) / sinceLog.Seconds(); br > 0 {
				left = float64(sizeB-readB) / br
			}
		} else {
			args = append(args, "lag_records", lag)
			if rate > 0 {
				left = float64(lag) / rate
			}
		}
		if left > 0 {
			args = append(args, "time_left", time.Duration(left*float64(time.Second)).Round(time.Second).String())
		}
		c.log.Info("catching up", args...)
		mark()
	case !behind && ps.behind:
		ps.behind = false
		if recs == ps.sinceRecs {
			mark() // there was nothing to catch up on
			return
		}
		took := now.Sub(ps.since)
		args := []any{"records", recs, "took", took.Round(time.Millisecond).String()}
		if s := took.Seconds(); s > 0 && recs > ps.sinceRecs {
			args = append(args, "lines_per_sec", strconv.FormatFloat(float64(recs-ps.sinceRecs)/s, 'f', 0, 64))
		}
		if source {
			args = append(args, "read_bytes", readB)
		}
		c.log.Info("caught up", args...)
		mark()
	case !behind && sinceLog >= logSteadyEvery*every:
		if recs != ps.lastRecs {
			args := []any{"records", recs, "lines_per_sec", strconv.FormatFloat(rate, 'f', 1, 64)}
			if !source {
				args = append(args, "lag_records", lag)
			}
			c.log.Info("progress", args...)
		}
		mark()
	}
}
