package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connect/kafkaclient"
	"github.com/tributary-io/tributary/internal/statuspage"
)

// workerStatusPage builds the status page that the worker serves at /ui/ on
// its REST listener, behind the REST API's basic authentication. Its Kafka
// clients reach the worker's cluster as the worker's admin client does
// (the security keys of the worker file and its admin.* keys). Without a
// REST listener there is no page: the option does nothing. closePage
// releases the page's client, once the worker is closed.
func workerStatusPage(cfg connect.WorkerConfig, log *slog.Logger) (opt connect.Option, closePage func(), err error) {
	if cfg.Listener == "" {
		return func(*connect.Worker) {}, func() {}, nil
	}
	props := map[string]string{}
	for k, v := range cfg.AdminProps {
		props[k] = v
	}
	props["bootstrap.servers"] = strings.Join(cfg.BootstrapServers, ",")
	res, err := kafkaclient.Options(props, kafkaclient.Admin)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: admin.%w", cfg.Source, err)
	}
	page, err := statuspage.New(statuspage.Config{
		Brokers:    cfg.BootstrapServers,
		ClientOpts: append([]kgo.Opt{kgo.WithLogger(kafkaclient.Logger(log))}, res.Opts...),
		REST:       "/",
		Metrics:    "/metrics",
		Title:      "Tributary worker",
		Logger:     log,
	})
	if err != nil {
		return nil, nil, err
	}
	return connect.WithHandler(statuspage.Path, page), page.Close, nil
}
