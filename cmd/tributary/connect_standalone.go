package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/cmd/internal/bundled"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connectors/filesink"
	"github.com/tributary-io/tributary/connectors/filesource"
)

// connectorRegistry lists the connector classes connect-standalone runs.
func connectorRegistry() *connect.Registry {
	reg := connect.NewRegistry()
	for _, p := range []connect.Plugin{filesource.Plugin(version()), filesink.Plugin(version())} {
		if err := reg.Register(p); err != nil {
			panic(err) // two classes with one name: a programming error
		}
	}
	return reg
}

type connectStandaloneFlags struct {
	overrides []string
}

func newConnectStandaloneCmd(a *app) *cobra.Command {
	var f connectStandaloneFlags
	cmd := &cobra.Command{
		Use:     "connect-standalone worker.properties [connector.properties ...]",
		Aliases: []string{"standalone"},
		Short:   "Run file connectors, like Kafka's connect-standalone.sh",
		Long: `Runs a standalone Kafka Connect worker with the connectors described by the
connector files: FileStreamSource tails a file into a topic, FileStreamSink
appends a topic to a file. Kafka Connect's own property files work unchanged.

When the worker file sets no bootstrap.servers, the bundled broker starts in
this process (on 127.0.0.1:9092 unless broker.listeners says otherwise) and
the worker uses it; console-consumer and topics can attach to it from another
terminal. SIGINT or SIGTERM stops the worker cleanly: sources stop reading,
their records are acknowledged, sinks flush and commit, offsets are saved,
and the bundled broker stops last. When a Kafka broker already answers on
the bundled broker's address, the worker uses it instead.`,
		Example: `  tributary connect-standalone testdata/connect-standalone.properties testdata/connect-file-source.properties testdata/connect-file-sink.properties
  tributary connect-standalone --override broker.listeners=PLAINTEXT://127.0.0.1:0 worker.properties source.properties
  tributary connect-standalone testdata/kafka/connect-standalone.properties testdata/kafka/connect-file-source.properties`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnectStandalone(cmd.Context(), a, args[0], args[1:], f)
		},
	}
	cmd.Flags().StringArrayVar(&f.overrides, "override", nil, "worker property that replaces the file's, key=value (repeatable)")
	return cmd
}

func runConnectStandalone(ctx context.Context, a *app, workerFile string, connectorFiles []string, f connectStandaloneFlags) error {
	props, err := config.LoadUnresolved(workerFile)
	if err != nil {
		return err
	}
	for _, o := range f.overrides {
		k, v, ok := strings.Cut(o, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usageErrorf("--override %q: want key=value", o)
		}
		props.Set(strings.TrimSpace(k), v)
	}
	// The config providers the worker file declares resolve its own
	// placeholders, then the connector files' (in the worker).
	providers, err := config.NewProviders(props)
	if err != nil {
		return err
	}
	if props, err = providers.Resolve(props); err != nil {
		return err
	}
	vals, err := bundled.WorkerDef().Parse(props)
	if err != nil {
		return err
	}
	// producer.*, consumer.* and admin.* are checked by ParseWorkerConfig,
	// broker.* by the bundled broker.
	vals.WarnUnknown(a.log, "producer.", "consumer.", "admin.", "key.converter.", "value.converter.", broker.EmbeddedPrefix, config.ProvidersKey+".")
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		return err
	}
	reg := connectorRegistry()

	// Every connector file is checked before anything starts.
	check, _ := connect.NewWorker(cfg, reg, a.log)
	var errs []error
	var connProps []*config.Props
	names := map[string]string{}
	for _, file := range connectorFiles {
		p, err := config.LoadUnresolved(file) // the worker resolves placeholders
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := check.ValidateConnector(p); err != nil {
			errs = append(errs, err)
			continue
		}
		name, _ := p.Get("name")
		name = strings.TrimSpace(name)
		if other, dup := names[name]; dup {
			errs = append(errs, &config.Error{Source: file, Key: "name", Value: name, Reason: "is already the name of the connector in " + other})
			continue
		}
		names[name] = file
		connProps = append(connProps, p)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(connProps) == 0 {
		a.log.Warn("no connector files given; the worker runs without connectors")
	}

	var emb *bundled.Broker
	if len(cfg.BootstrapServers) == 0 {
		emb, err = bundled.Start(ctx, a.log, vals, cfg.OffsetsFile)
		if err != nil {
			if ctx.Err() != nil { // stopped while starting
				return nil
			}
			return err
		}
		cfg.BootstrapServers = []string{emb.Addr}
	}
	stopBroker := func() error {
		if emb == nil {
			return nil
		}
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return emb.Close(sctx)
	}

	ui, closeUI, err := workerStatusPage(cfg, a.log)
	if err != nil {
		return errors.Join(err, stopBroker())
	}
	defer closeUI()
	w, err := connect.NewWorker(cfg, reg, a.log, connect.WithVersion(version()), connect.WithLogLevel(a.level), ui)
	if err == nil {
		err = w.Start(ctx)
	}
	if err != nil {
		if ctx.Err() != nil { // stopped while starting
			return stopBroker()
		}
		return errors.Join(err, stopBroker())
	}
	closeTimeout := 3*cfg.ShutdownTimeout + 10*time.Second
	shutdown := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		werr := w.Close(cctx)
		return errors.Join(werr, stopBroker())
	}
	// A connector whose tasks fail to start stays, with those tasks FAILED
	// (restartable over REST), while others run; the worker gives up only
	// when nothing it was given runs.
	var failures []error
	running := 0
	for _, p := range connProps {
		err := w.StartConnector(ctx, p)
		var tf *connect.TasksFailedError
		switch {
		case err != nil && ctx.Err() != nil: // stopped while starting
			return shutdown()
		case errors.As(err, &tf):
			failures = append(failures, err)
			if !tf.AllFailed() {
				running++
			}
		case err != nil:
			failures = append(failures, err)
		default:
			running++
		}
	}
	if len(failures) > 0 && running == 0 {
		return errors.Join(errors.Join(failures...), shutdown())
	}
	for _, err := range failures {
		a.log.Error("running without it: fix the cause and restart it with POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true", "err", err)
	}
	a.log.Info("connect-standalone running", "connectors", len(connProps), "bootstrap.servers", strings.Join(cfg.BootstrapServers, ","))
	<-ctx.Done()
	a.log.Info("stopping: sources stop reading, sinks flush and commit, offsets are saved")
	if err := shutdown(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}
