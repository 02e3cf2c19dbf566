package broker

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/tributary-io/tributary/broker/storage"
	"github.com/tributary-io/tributary/config"
)

// Files the broker keeps in its log dirs, besides the partition folders,
// with Kafka's names and formats where Kafka has them:
//
//	meta.properties                    cluster.id and node.id (first log dir)
//	topics.json                        topic metadata (first log dir)
//	producer-id-block                  next unreserved producer id (first log dir)
//	client-quotas.json                 client quotas (first log dir, quota.go)
//	scram-credentials.json             SCRAM credentials of AlterUserScramCredentials (first log dir, scramstore.go)
//	recovery-point-offset-checkpoint   per partition, the offset below which
//	                                   data is durable (each log dir)
//	.kafka_cleanshutdown               written after a clean shutdown, removed
//	                                   once the logs are open (each log dir)
//	__consumer_offsets/                the group coordinator's state (first log dir)
//	__transaction_state/               the transaction coordinator's state,
//	                                   transactions.log (first log dir)
const (
	metaPropertiesFile = "meta.properties"
	checkpointFile     = "recovery-point-offset-checkpoint"
	cleanShutdownFile  = ".kafka_cleanshutdown"
	producerIDFile     = "producer-id-block"
	groupDir           = "__consumer_offsets"
	txnDir             = "__transaction_state"
)

// loadClusterID reads the cluster id from meta.properties in the first
// log dir, creating the file with a new id if there is none.
func (b *Broker) loadClusterID() (string, error) {
	dir := b.cfg.LogDirs[0]
	path := filepath.Join(dir, metaPropertiesFile)
	if props, err := config.Load(path); err == nil {
		if id, ok := props.Get("cluster.id"); ok && id != "" {
			if n, ok := props.Get("node.id"); ok && n != strconv.Itoa(int(b.cfg.NodeID)) {
				b.log.Warn("log dir was written by another node id", "dir", dir, "node_id", n)
			}
			return id, nil
		}
	} else if _, serr := os.Stat(path); serr == nil {
		return "", err
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	data := fmt.Sprintf("#Written by tributary broker\nversion=1\ncluster.id=%s\nnode.id=%d\n", id, b.cfg.NodeID)
	if err := storage.WriteFileAtomic(dir, metaPropertiesFile, []byte(data)); err != nil {
		return "", err
	}
	return id, nil
}

// readCheckpoint reads a log dir's recovery points, keyed "topic partition".
// Kafka's format: a version line (0), a count line, then "topic partition
// offset" lines.
func readCheckpoint(dir string) map[string]int64 {
	out := map[string]int64{}
	data, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for i := 0; sc.Scan(); i++ {
		if i < 2 {
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		if off, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			out[f[0]+" "+f[1]] = off
		}
	}
	return out
}

// writeCheckpoints records every partition's recovery point, after each
// log has written the index of its active segment up to it (so that
// recovery after a crash validates only what follows). A failed log dir
// keeps the checkpoint it had.
func (b *Broker) writeCheckpoints() error {
	lines := map[string][]string{}
	var errs []error
	for _, t := range b.topics().byName {
		for _, p := range t.parts {
			if p.offline != nil {
				continue
			}
			if err := p.log.CheckpointIndex(); err != nil {
				errs = append(errs, fmt.Errorf("%s-%d: %w", p.topic, p.index, err))
			}
			lines[p.logDir] = append(lines[p.logDir], fmt.Sprintf("%s %d %d", p.topic, p.index, p.log.RecoveryPoint()))
		}
	}
	for _, dir := range b.cfg.LogDirs {
		if b.failedDirs[dir] != nil {
			continue
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "0\n%d\n", len(lines[dir]))
		for _, l := range lines[dir] {
			buf.WriteString(l)
			buf.WriteByte('\n')
		}
		if err := storage.WriteFileAtomic(dir, checkpointFile, buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// producerIDs hands out producer ids that are unique across restarts:
// blocks of ids are reserved in producer-id-block before any id of them is
// given out.
type producerIDs struct {
	dir string

	mu          sync.Mutex // guards the fields below
	next, limit int64
}

const producerIDBlock = 1000

func loadProducerIDs(dir string, minNext int64) (*producerIDs, error) {
	p := &producerIDs{dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, producerIDFile))
	switch {
	case err == nil:
		n, perr := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if perr != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a producer id", producerIDFile, strings.TrimSpace(string(data)))
		}
		p.next = n
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	p.next = max(p.next, minNext)
	p.limit = p.next
	return p, nil
}

func (p *producerIDs) allocate() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.limit {
		limit := p.next + producerIDBlock
		if err := storage.WriteFileAtomic(p.dir, producerIDFile, []byte(strconv.FormatInt(limit, 10)+"\n")); err != nil {
			return 0, err
		}
		p.limit = limit
	}
	id := p.next
	p.next++
	return id, nil
}
