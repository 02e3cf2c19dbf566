package connect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/filelock"
	"github.com/tributary-io/tributary/connect/kafkaclient"
	"github.com/tributary-io/tributary/connect/transforms"
)

// Connector and task states, as Kafka Connect reports them.
const (
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateFailed     = "FAILED"
	StateUnassigned = "UNASSIGNED"
	StateStopped    = "STOPPED" // stopped over REST, configuration kept (KIP-875)
)

// Option tunes a Worker beyond what the worker file says.
type Option func(*Worker)

// WithProgressInterval sets how often the tasks' rates are sampled (a
// second by default); progress is logged every 5 samples while a connector
// catches up and every 30 while it keeps up (see progressTick).
func WithProgressInterval(d time.Duration) Option {
	return func(w *Worker) { w.progressEvery = d }
}

// WithVersion sets the version reported by the REST API.
func WithVersion(v string) Option { return func(w *Worker) { w.version = v } }

// WithHandler serves h on the REST listener at pattern (a net/http.ServeMux
// pattern such as "/ui/"), behind the REST API's basic authentication
// (rest.basic.auth.*) like every other path. A pattern that conflicts with
// the REST API's panics at Start, as ServeMux.Handle does.
func WithHandler(pattern string, h http.Handler) Option {
	return func(w *Worker) { w.handlers = append(w.handlers, restRoute{pattern: pattern, handler: h}) }
}

// restRoute is a handler added to the REST listener with WithHandler.
type restRoute struct {
	pattern string
	handler http.Handler
}

// Worker is a standalone Kafka Connect worker: it runs connectors and their
// tasks against one Kafka cluster, keeps source offsets in a file and serves
// the REST API.
//
// Lifecycle: NewWorker, Start, StartConnector for each connector, then
// Close, which stops source tasks, waits for their records to be
// acknowledged, flushes and commits sink tasks, saves the offsets and closes
// the clients, in that order. Close is idempotent.
type Worker struct {
	cfg           WorkerConfig
	reg           *Registry
	log           *slog.Logger
	progressEvery time.Duration
	version       string
	logLevel      *loggerLevel // the level REST may change (WithLogLevel); nil: fixed

	offsets     *OffsetStore
	offsetsLock *filelock.Lock // held from Start to Close
	producer    *kgo.Client
	// adminCl is the admin client, configured by the admin.* keys as in
	// Kafka Connect: it creates and describes topics, lists offsets and
	// serves the REST API's questions. admin wraps it.
	adminCl *kgo.Client
	admin   *kadm.Client
	seq     atomic.Uint64 // batch sequence numbers

	topicsMu sync.Mutex // guards topics
	topics   map[string]topicMeta

	// maxRequest is producer.max.request.size when the worker file sets
	// it (0: sized from the connectors' records, at least Kafka's 1 MiB).
	maxRequest int

	// confMu serialises the changes to the set of connectors: those of
	// StartConnector and the REST API's creations, reconfigurations and
	// deletions. It is taken before mu and before any lifecycle lock.
	confMu     sync.Mutex
	closing    atomic.Bool // set when Close begins: lifecycle requests are refused
	mu         sync.Mutex  // guards connectors, order
	connectors map[string]*connectorRuntime
	order      []string

	handlers []restRoute // served beside the REST API (WithHandler)
	restSrv  *http.Server
	restLn   net.Listener
	restDone chan struct{}
	workerID string

	// metrics are the tasks' metrics and the registry /metrics serves
	// (metrics.go).
	metrics *workerMetrics

	bgCancel context.CancelFunc
	bgWG     sync.WaitGroup // offset saver and progress logger

	closeOnce sync.Once
	closeErr  error
}

// NewWorker builds a worker; nothing is started until Start. A worker that
// is never started can still validate connector files.
func NewWorker(cfg WorkerConfig, reg *Registry, log *slog.Logger, opts ...Option) (*Worker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		cfg:           cfg,
		reg:           reg,
		log:           log,
		progressEvery: time.Second,
		version:       "dev",
		topics:        map[string]topicMeta{},
		connectors:    map[string]*connectorRuntime{},
	}
	for _, o := range opts {
		o(w)
	}
	w.log = w.namedLogger(log, workerLoggerName)
	w.metrics = newWorkerMetrics(w)
	return w, nil
}

func (w *Worker) clientProps(extra map[string]string) map[string]string {
	props := map[string]string{}
	for k, v := range extra {
		props[k] = v
	}
	props["bootstrap.servers"] = strings.Join(w.cfg.BootstrapServers, ",")
	return props
}

// newAdmin builds the worker's admin client from the admin.* keys, with
// the worker's bootstrap.servers.
func (w *Worker) newAdmin() error {
	res, err := kafkaclient.Options(w.clientProps(w.cfg.AdminProps), kafkaclient.Admin)
	if err != nil {
		return fmt.Errorf("%s: admin.%w", w.cfg.Source, err)
	}
	if len(res.Ignored) > 0 {
		w.log.Info("admin properties without effect here", "keys", strings.Join(res.Ignored, ","))
	}
	w.adminCl, err = newKgoClient(append([]kgo.Opt{kgo.WithLogger(kafkaclient.Logger(w.namedLogger(w.log, clientsLoggerName)))}, res.Opts...)...)
	if err != nil {
		return err
	}
	w.admin = kadm.NewClient(w.adminCl)
	return nil
}

// Start opens the offsets file, connects the producer and starts the REST
// API and the background savers. A failure leaves nothing running.
func (w *Worker) Start(ctx context.Context) (err error) {
	if len(w.cfg.BootstrapServers) == 0 {
		return errors.New("connect: no bootstrap servers")
	}
	if w.cfg.ConverterDefault {
		w.log.Info("key.converter or value.converter not set; using " + StringConverterClass)
	}
	if w.cfg.PluginPathIsSet {
		w.log.Info("plugin.path is ignored: the connectors and converters are built in")
	}
	if err := w.lockOffsets(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.offsetsLock.Release()
			w.offsetsLock = nil
		}
	}()
	w.offsets, err = OpenOffsetStore(w.cfg.OffsetsFile, w.log)
	if err != nil {
		return err
	}
	pprops := w.clientProps(w.cfg.ProducerProps)
	if v, ok := pprops["max.request.size"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1024 {
			return fmt.Errorf("%s: producer.max.request.size: %q is not a number of bytes of 1024 or more", w.cfg.Source, v)
		}
		w.maxRequest = n
		delete(pprops, "max.request.size")
	}
	res, err := kafkaclient.Options(pprops, kafkaclient.Producer)
	if err != nil {
		return fmt.Errorf("%s: producer.%w", w.cfg.Source, err)
	}
	if len(res.Ignored) > 0 {
		w.log.Info("producer properties without effect here", "keys", strings.Join(res.Ignored, ","))
	}
	opts := append([]kgo.Opt{
		kgo.WithLogger(kafkaclient.Logger(w.namedLogger(w.log, clientsLoggerName))),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		// Five batches of the file source's default size: enough to keep
		// the producer's requests full while earlier ones are fsynced, and
		// a bound on the memory held by records not yet acknowledged.
		kgo.MaxBufferedRecords(10000),
		kgo.AllowAutoTopicCreation(),
	}, res.Opts...)
	// The largest batch, and so the largest record, per topic: what the
	// topic accepts and the connectors need (see recordLimit).
	opts = append(opts, kgo.ProducerBatchMaxBytesFn(func(topic string) int32 { return int32(w.recordLimit(topic)) }))
	w.producer, err = newKgoClient(opts...)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.producer.Close()
		}
	}()
	if err := w.newAdmin(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.adminCl.Close()
		}
	}()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.producer.Ping(pctx); err != nil {
		return fmt.Errorf("cannot reach the Kafka cluster at %s: %w", strings.Join(w.cfg.BootstrapServers, ","), err)
	}
	if err := w.adminCl.Ping(pctx); err != nil {
		return fmt.Errorf("admin client (%s: admin.*): cannot reach the Kafka cluster at %s: %w", w.cfg.Source, strings.Join(w.cfg.BootstrapServers, ","), err)
	}
	if w.cfg.Listener != "" {
		ln, err := net.Listen("tcp", w.cfg.Listener)
		if err != nil {
			return fmt.Errorf("%s: listeners: cannot listen on %s: %w", w.cfg.Source, w.cfg.Listener, err)
		}
		w.restLn = ln
		w.workerID = ln.Addr().String()
		w.restSrv = &http.Server{Handler: w.restHandler(), ReadHeaderTimeout: 10 * time.Second}
		w.restDone = make(chan struct{})
		go func() { // owned by Close: ends when restSrv is shut down
			defer close(w.restDone)
			if err := w.restSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				w.log.Error("REST API stopped", "err", err)
			}
		}()
		w.log.Info("REST API listening", "url", "http://"+w.workerID)
	}
	bg, bgCancel := context.WithCancel(context.Background())
	w.bgCancel = bgCancel
	w.bgWG.Add(2)
	go func() { // owned by Close: bgCancel, then the final save
		defer w.bgWG.Done()
		w.offsets.Run(bg, w.cfg.FlushInterval)
	}()
	go func() { // owned by Close
		defer w.bgWG.Done()
		w.progressLoop(bg)
	}()
	return nil
}

// RESTAddr is the REST API's bound host:port ("" when it is off).
func (w *Worker) RESTAddr() string { return w.workerID }

// Offsets is the worker's offset store.
func (w *Worker) Offsets() *OffsetStore { return w.offsets }

// connectorSpec is a validated connector file.
type connectorSpec struct {
	name   string
	source string
	plugin *Plugin
	vals   *config.Values
	props  map[string]string
	// creation is a source connector's topic creation groups (KIP-158).
	creation topicCreation
	keyConv  Converter
	valConv  Converter
	// ignored are the connector's key.converter.* and value.converter.*
	// keys that do not apply: the connector names no converter of that side.
	ignored []string
	topics  []string
	regex   *regexp.Regexp
	// chain is the connector's transforms (nil: none); unusedTransformKeys
	// its transforms.* and predicates.* keys that nothing reads.
	chain               *transforms.Chain
	unusedTransformKeys []string

	// shown is the configuration as written, its config-provider
	// placeholders unresolved: what the REST API shows.
	shown map[string]string
}

// ValidateConnector checks a connector file against its class's keys and
// returns every problem found, each naming the file and key.
func (w *Worker) ValidateConnector(props *config.Props) error {
	_, err := w.validate(props)
	return err
}

func (w *Worker) validate(props *config.Props) (*connectorSpec, error) {
	shown := props.Unresolved()
	if w.cfg.Providers != nil {
		resolved, err := w.cfg.Providers.Resolve(props)
		if err != nil {
			return nil, err
		}
		props = resolved
	}
	cls, _ := props.Get("connector.class")
	if strings.TrimSpace(cls) == "" {
		return nil, &config.Error{Source: props.Source(), Key: "connector.class", Value: cls, Reason: "is missing; set it to one of " + w.reg.names()}
	}
	p, ok := w.reg.Lookup(cls)
	if !ok {
		return nil, &config.Error{Source: props.Source(), Key: "connector.class", Value: cls, Reason: "is not a known connector class; known: " + w.reg.names()}
	}
	vals, err := p.Def.Parse(props)
	if err != nil {
		return nil, err
	}
	spec := &connectorSpec{name: vals.String("name"), source: props.Source(), plugin: p, vals: vals, props: props.Map(), shown: shown}
	var errs []error
	// As Kafka does: a converter the connector names replaces the
	// worker's and takes its settings (side.converter.*) from the connector
	// file alone, with their defaults; without one, the worker's converter
	// runs with the worker's settings, and the connector's side.converter.*
	// keys are ignored.
	conv := func(side string, wc ConverterConfig) Converter {
		cc := wc
		if c := vals.String(side + ".converter"); c != "" {
			cc = ConverterConfig{Class: c, SchemasEnable: true}
			if raw, ok := props.Get(side + ".converter.schemas.enable"); ok {
				var good bool
				if cc.SchemasEnable, good = parseSchemasEnable(raw); !good {
					errs = append(errs, &config.Error{Source: props.Source(), Key: side + ".converter.schemas.enable", Value: raw, Reason: "is not a boolean (true or false)"})
				}
			}
		} else {
			if wc.err != nil && strings.HasSuffix(wc.Class, "JsonConverter") {
				errs = append(errs, wc.err)
			}
			for k := range props.Map() {
				if strings.HasPrefix(k, side+".converter.") {
					spec.ignored = append(spec.ignored, k)
				}
			}
		}
		c, err := NewConverter(cc.Class, cc.SchemasEnable)
		if err != nil {
			errs = append(errs, &config.Error{Source: props.Source(), Key: side + ".converter", Value: cc.Class, Reason: err.Error()})
		}
		return c
	}
	spec.keyConv = conv("key", w.cfg.KeyConverter)
	spec.valConv = conv("value", w.cfg.ValueConverter)
	slices.Sort(spec.ignored)
	if c := vals.String("header.converter"); c != "" {
		if err := CheckHeaderConverter(c); err != nil {
			errs = append(errs, &config.Error{Source: props.Source(), Key: "header.converter", Value: c, Reason: err.Error()})
		}
	}
	if spec.chain, spec.unusedTransformKeys, err = transforms.Parse(props); err != nil {
		errs = append(errs, err)
	}
	if p.Type == Sink {
		spec.topics = vals.List("topics")
		re := vals.String("topics.regex")
		switch {
		case len(spec.topics) > 0 && re != "":
			errs = append(errs, &config.Error{Source: props.Source(), Key: "topics.regex", Value: re, Reason: "is set together with topics; set only one"})
		case len(spec.topics) == 0 && re == "":
			errs = append(errs, &config.Error{Source: props.Source(), Key: "topics", Value: "", Reason: "must be set (or topics.regex)"})
		case re != "":
			rx, err := regexp.Compile(re)
			if err != nil {
				errs = append(errs, &config.Error{Source: props.Source(), Key: "topics.regex", Value: re, Reason: "is not a regular expression: " + err.Error()})
			}
			spec.regex = rx
		}
	} else {
		var err error
		if spec.creation, err = parseTopicCreation(vals); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return spec, nil
}

// StartConnector validates a connector file, starts the connector and its
// tasks. A *TasksFailedError says that the connector runs but some of its
// tasks failed to start: they are FAILED, and can be restarted over REST.
// Any other error leaves nothing of it running.
func (w *Worker) StartConnector(ctx context.Context, props *config.Props) error {
	spec, err := w.validate(props)
	if err != nil {
		return err
	}
	w.confMu.Lock()
	defer w.confMu.Unlock()
	_, err = w.runConnector(ctx, spec, nil)
	return err
}

// runConnector adds a connector for spec, in the place of old (nil for a
// new name; old is stopped already), and starts it; w.confMu is held. A
// *TasksFailedError leaves it running; any other error leaves nothing of
// it, and no connector of that name.
func (w *Worker) runConnector(ctx context.Context, spec *connectorSpec, old *connectorRuntime) (*connectorRuntime, error) {
	w.mu.Lock()
	if cur := w.connectors[spec.name]; cur != nil && cur != old {
		w.mu.Unlock()
		return nil, &config.Error{Source: spec.source, Key: "name", Value: spec.name, Reason: "is already the name of the connector in " + cur.spec.source}
	}
	now := time.Now()
	c := &connectorRuntime{w: w, spec: spec, log: w.namedLogger(w.log, connectorLoggerName).With("connector", spec.name), state: StateUnassigned,
		// It starts behind: reaching the end is said once, with the time
		// since now.
		prog: progressState{started: true, behind: true, since: now, lastLog: now, lastSample: now}}
	spec.vals.WarnUnknown(c.log, "key.converter.", "value.converter.", "header.converter.", creationPrefix, transforms.TransformsKey+".", transforms.PredicatesKey+".")
	for _, k := range spec.unusedTransformKeys {
		config.WarnUnknownKey(c.log, spec.source, k, "")
	}
	for _, k := range spec.ignored {
		side, _, _ := strings.Cut(k, ".")
		c.log.Info("'"+k+"' is ignored, as in Kafka: the connector does not set "+side+".converter, so the worker's converter runs with the worker's settings", "file", spec.source)
	}
	w.connectors[spec.name] = c
	if old == nil {
		w.order = append(w.order, spec.name)
	}
	w.mu.Unlock()
	var failed *TasksFailedError
	if err := c.start(ctx); errors.As(err, &failed) {
		return c, err
	} else if err != nil {
		c.stop(context.Background())
		w.removeConnector(c)
		return nil, err
	}
	return c, nil
}

// removeConnector takes c out of the worker's list, if it is still there.
func (w *Worker) removeConnector(c *connectorRuntime) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.connectors[c.spec.name] != c {
		return
	}
	delete(w.connectors, c.spec.name)
	// By name: another connector may have been added meanwhile.
	w.order = slices.DeleteFunc(w.order, func(n string) bool { return n == c.spec.name })
}

// errConnectorExists refuses to create a connector whose name is taken;
// errNoConnector to change one that does not exist.
var (
	errConnectorExists = errors.New("connect: connector exists")
	errNoConnector     = errors.New("connect: no such connector")
)

// invalidConfigError says that a configuration given over REST did not
// validate; nothing was changed.
type invalidConfigError struct{ err error }

func (e *invalidConfigError) Error() string { return e.err.Error() }
func (e *invalidConfigError) Unwrap() error { return e.err }

// putConnector creates the connector that props configure or, when
// replace, reconfigures the one of that name: it stops it (tasks flushed
// and committed, the connector stopped) and starts one with props, as
// Kafka's standalone herder does. It reports whether the connector is new.
// An invalid configuration changes nothing; an error of the new
// connector's start leaves no connector of that name.
func (w *Worker) putConnector(ctx context.Context, props *config.Props, replace bool) (*connectorRuntime, bool, error) {
	spec, err := w.validate(props)
	if err != nil {
		return nil, false, &invalidConfigError{err}
	}
	w.confMu.Lock()
	defer w.confMu.Unlock()
	if w.closing.Load() {
		return nil, false, ErrWorkerClosing
	}
	old := w.connector(spec.name)
	if old != nil && !replace {
		return nil, false, errConnectorExists
	}
	if old != nil {
		if !old.stop(ctx) {
			// Kept in the list, so that Close waits for its tasks.
			return nil, false, fmt.Errorf("connector %s: its tasks did not stop in time; not started again", spec.name)
		}
		old.log.Info("connector stopped for reconfiguration")
	}
	c, err := w.runConnector(ctx, spec, old)
	return c, old == nil, err
}

// deleteConnector stops the connector name for good (tasks flushed and
// committed) and forgets it. Its source offsets are kept, as Kafka keeps
// them.
func (w *Worker) deleteConnector(ctx context.Context, name string) error {
	w.confMu.Lock()
	defer w.confMu.Unlock()
	if w.closing.Load() {
		return ErrWorkerClosing
	}
	c := w.connector(name)
	if c == nil {
		return errNoConnector
	}
	if !c.stop(ctx) {
		// Kept in the list, so that Close waits for its tasks.
		return fmt.Errorf("connector %s: its tasks did not stop in time", name)
	}
	w.removeConnector(c)
	c.log.Info("connector deleted")
	return nil
}

func (w *Worker) connector(name string) *connectorRuntime {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connectors[name]
}

func (w *Worker) connectorList() []*connectorRuntime {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*connectorRuntime, 0, len(w.order))
	for _, n := range w.order {
		out = append(out, w.connectors[n])
	}
	return out
}

// Close stops everything in order: source tasks stop polling, their records
// are acknowledged, sink tasks flush and commit, connectors stop, offsets
// are saved, the producer closes, and the REST API stops last (then the
// admin client it asks) so that status can be read while stopping. It
// waits at most task.shutdown.graceful.timeout.ms for each step that waits
// on the cluster.
func (w *Worker) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { w.closeErr = w.close(ctx) })
	return w.closeErr
}

func (w *Worker) close(ctx context.Context) error {
	w.closing.Store(true) // before the list: a connector added later refuses to start
	var errs []error
	cs := w.connectorList()
	// Sources first: stop polling, then wait for what was sent.
	for _, c := range cs {
		if c.spec.plugin.Type == Source {
			c.stopTasks(ctx)
		}
	}
	if w.producer != nil {
		fctx, cancel := context.WithTimeout(ctx, w.cfg.ShutdownTimeout)
		if err := w.producer.Flush(fctx); err != nil {
			errs = append(errs, fmt.Errorf("records not acknowledged before shutdown: %w", err))
		}
		cancel()
	}
	for _, c := range cs {
		if c.spec.plugin.Type == Sink {
			c.stopTasks(ctx)
		}
	}
	for _, c := range cs {
		c.stop(ctx)
	}
	if w.bgCancel != nil {
		w.bgCancel()
		w.bgWG.Wait()
	}
	if w.offsets != nil {
		if err := w.offsets.Save(); err != nil {
			errs = append(errs, err)
		}
	}
	if w.producer != nil {
		w.producer.Close()
	}
	if w.restSrv != nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := w.restSrv.Shutdown(sctx); err != nil {
			w.restSrv.Close()
		}
		cancel()
		<-w.restDone
	}
	if w.adminCl != nil {
		w.adminCl.Close() // after the REST API, which asks it
	}
	w.offsetsLock.Release() // after the last save
	w.offsetsLock = nil
	return errors.Join(errs...)
}

// lockOffsets takes the offsets file's lock (its name with ".lock"), so
// that two workers never write one offsets file: the second is refused,
// naming the file and the first one's pid.
func (w *Worker) lockOffsets() error {
	l, err := filelock.Acquire(w.cfg.OffsetsFile + ".lock")
	var held *filelock.HeldError
	switch {
	case errors.As(err, &held):
		return fmt.Errorf("%s: offset.storage.file.filename: %s is in use by another worker: %w", w.cfg.Source, w.cfg.OffsetsFile, err)
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("offsets file %s: folder %s does not exist", w.cfg.OffsetsFile, filepath.Dir(w.cfg.OffsetsFile))
	case err != nil:
		return fmt.Errorf("%s: offset.storage.file.filename: %w", w.cfg.Source, err)
	}
	w.offsetsLock = l
	return nil
}

// Record size limits. Kafka's producer sends at most max.request.size
// bytes (1 MiB) in a request, and a topic takes batches of at most its
// max.message.bytes (message.max.bytes of the broker, 1 MiB + 12 bytes).
const (
	kafkaMaxRequestSize  = 1 << 20
	kafkaMaxMessageBytes = 1048588
)

// topicMeta is what the worker knows of a topic it writes to.
type topicMeta struct {
	parts    int32
	maxBytes int // max.message.bytes; 0 when it could not be read
	need     int // the largest record its connectors may send
}

// recordNeed is the largest record (in a batch of its own) that c's tasks
// may send: for connectors that declare their largest value, that plus the
// headers and framing; Kafka's 1 MiB otherwise.
func recordNeed(c *connectorRuntime) int {
	need := kafkaMaxRequestSize
	if c == nil {
		return need
	}
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if rs, ok := conn.(RecordSizer); ok {
		need = max(need, rs.MaxValueBytes()+recordOverhead+512)
	}
	return need
}

// RecordSizer is implemented by connectors that know the largest value
// their tasks produce (such as a line limit); the worker sizes its producer
// and the topics it creates to fit.
type RecordSizer interface {
	MaxValueBytes() int
}

// recordLimit is the largest batch the producer builds for topic: the
// connectors' need (or producer.max.request.size when set), within what the
// topic accepts.
func (w *Worker) recordLimit(topic string) int {
	w.topicsMu.Lock()
	m, ok := w.topics[topic]
	w.topicsMu.Unlock()
	limit := kafkaMaxRequestSize
	if ok {
		limit = max(limit, m.need)
	}
	if w.maxRequest > 0 {
		limit = w.maxRequest
	}
	if ok && m.maxBytes > 0 {
		limit = min(limit, m.maxBytes)
	}
	return limit
}

// limitReason says which setting recordLimit's answer comes from.
func (w *Worker) limitReason(topic string) string {
	w.topicsMu.Lock()
	m := w.topics[topic]
	w.topicsMu.Unlock()
	if m.maxBytes > 0 && m.maxBytes == w.recordLimit(topic) {
		return fmt.Sprintf("the topic's max.message.bytes is %d", m.maxBytes)
	}
	if w.maxRequest > 0 {
		return fmt.Sprintf("producer.max.request.size is %d", w.maxRequest)
	}
	return "the producer's record limit"
}

// partitions returns the partition count of topic, creating the topic when
// it does not exist (and topic creation is on).
func (w *Worker) partitions(ctx context.Context, topic string, c *connectorRuntime) (int32, error) {
	m, err := w.topicFor(ctx, topic, c)
	return m.parts, err
}

// topicFor returns what the worker knows of topic, creating the topic when
// it does not exist (and topic creation is on) with a max.message.bytes
// that fits c's records. An existing topic whose max.message.bytes is
// smaller than c's records may need is reported once, as a warning: such a
// record fails the task when it comes.
func (w *Worker) topicFor(ctx context.Context, topic string, c *connectorRuntime) (topicMeta, error) {
	need := recordNeed(c)
	w.topicsMu.Lock()
	m, ok := w.topics[topic]
	if ok && need > m.need {
		m.need = need
		w.topics[topic] = m
	}
	w.topicsMu.Unlock()
	if ok {
		return m, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	created := false
	for {
		parts, found, err := w.topicPartitions(ctx, topic)
		if err == nil {
			if found && parts > 0 {
				m := topicMeta{parts: parts, need: need, maxBytes: w.topicMaxBytes(ctx, topic)}
				w.topicsMu.Lock()
				if old, ok := w.topics[topic]; ok {
					m.need = max(m.need, old.need)
				}
				w.topics[topic] = m
				w.topicsMu.Unlock()
				if limit := w.recordLimit(topic); limit < need {
					w.log.Warn("records to this topic are limited to fewer bytes than the connector may send ("+w.limitReason(topic)+"); a larger record fails the task when it comes",
						"topic", topic, "limit", limit, "largest_record", need)
				}
				return m, nil
			}
			if !found && !created && w.cfg.TopicCreation {
				// A sink may create the topic before its source does: size
				// it for the largest record of any connector here.
				size := need
				for _, o := range w.connectorList() {
					size = max(size, recordNeed(o))
				}
				if err := w.createTopic(ctx, topic, c, size); err != nil {
					return topicMeta{}, err
				}
				created = true
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("topic %s has no partitions", topic)
			}
			return topicMeta{}, fmt.Errorf("metadata of topic %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return topicMeta{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// topicPartitions asks the cluster for a topic's partition count, without
// letting the question create the topic (a metadata request does by default
// on a broker with auto.create.topics.enable, with the broker's settings
// rather than the connector's).
func (w *Worker) topicPartitions(ctx context.Context, topic string) (int32, bool, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, w.adminCl)
	if err != nil {
		return 0, false, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return 0, false, nil
		case err != nil:
			return 0, true, err
		}
		return int32(len(t.Partitions)), true, nil
	}
	return 0, false, nil
}

// createTopic creates topic with c's topic.creation.default.* settings and
// a max.message.bytes that fits records of need bytes.
func (w *Worker) createTopic(ctx context.Context, topic string, c *connectorRuntime, need int) error {
	parts, rf := int32(-1), int16(-1)
	configs := map[string]*string{}
	if c != nil && c.spec.creation != nil {
		g := c.spec.creation.forTopic(topic)
		parts, rf = g.partitions, g.replication
		for k, v := range g.configs {
			configs[k] = &v
		}
	}
	if need > kafkaMaxMessageBytes {
		v := strconv.Itoa(need)
		configs["max.message.bytes"] = &v
	}
	resp, cerr := w.admin.CreateTopic(ctx, parts, rf, configs, topic)
	if cerr == nil {
		cerr = resp.Err
	}
	if cerr != nil && !errors.Is(cerr, kerr.TopicAlreadyExists) && (parts == -1 || rf == -1) {
		// Older brokers need explicit numbers.
		resp, cerr = w.admin.CreateTopic(ctx, max(parts, 1), max(rf, 1), configs, topic)
		if cerr == nil {
			cerr = resp.Err
		}
	}
	if cerr != nil && !errors.Is(cerr, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, cerr)
	}
	if cerr == nil {
		args := []any{"topic", topic, "partitions", parts, "replication.factor", rf}
		for k, v := range configs {
			args = append(args, k, *v)
		}
		w.log.Info("created topic", args...)
	}
	return nil
}

// topicMaxBytes reads a topic's max.message.bytes; 0 when it cannot be read
// (a cluster that refuses DescribeConfigs to this client), which is said
// once: a record larger than the topic accepts then fails the task only
// when it comes.
func (w *Worker) topicMaxBytes(ctx context.Context, topic string) int {
	rcs, err := w.admin.DescribeTopicConfigs(ctx, topic)
	var rc kadm.ResourceConfig
	if err == nil {
		rc, err = rcs.On(topic, nil)
	}
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		w.log.Warn("cannot read the topic's max.message.bytes; a record larger than the topic accepts fails the task when it comes", "topic", topic, "err", err)
		return 0
	}
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" && c.Value != nil {
			if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// progressLoop samples each connector's progress every progressEvery and
// logs it (progressTick).
func (w *Worker) progressLoop(ctx context.Context) {
	t := time.NewTicker(w.progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, c := range w.connectorList() {
				c.progressTick(time.Now(), w.progressEvery)
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
