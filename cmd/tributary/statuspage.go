package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker"
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

// serveBrokerStatusPage mounts the status page at /ui/ on the broker's
// metrics listener (metrics.listener), beside /metrics, once the broker
// has started; without that listener it does nothing. The page has no
// worker to show: its Kafka sections ask the broker over its first
// listener, as any client of it does, so the page reads nothing that the
// listener does not already give to whoever reaches it (a SASL or TLS
// listener refuses the page, which then says so). The returned func
// releases the page's client.
func serveBrokerStatusPage(b *broker.Broker, log *slog.Logger) (closePage func()) {
	if b.MetricsAddr() == "" {
		return func() {}
	}
	page, err := statuspage.New(statuspage.Config{
		Brokers:    []string{b.Addr()},
		ClientOpts: []kgo.Opt{kgo.WithLogger(kafkaclient.Logger(log))},
		Metrics:    "/metrics",
		Title:      "Tributary broker",
		Logger:     log,
	})
	if err != nil {
		log.Warn("the status page is not served", "err", err)
		return func() {}
	}
	b.HandleHTTP(statuspage.Path, page)
	log.Info("serving the status page", "url", "http://"+b.MetricsAddr()+statuspage.Path)
	return page.Close
}
