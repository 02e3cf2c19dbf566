package statuspage

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Path is where the page is served; its JSON endpoints are under Path+"api/".
const Path = "/ui/"

// MaxMessages is the most records of one partition that one request to
// /ui/api/messages returns.
const MaxMessages = 500

//go:embed static
var static embed.FS

// Config says where the page finds what it shows.
type Config struct {
	// Brokers are the cluster's seed brokers, host:port.
	Brokers []string
	// ClientOpts are further options of the page's Kafka clients: the TLS
	// and SASL options of the worker's own clients (see
	// connect/kafkaclient.Options), timeouts and the like. A seed broker
	// option among them is overridden by Brokers.
	ClientOpts []kgo.Opt
	// REST is the path of the worker's REST API on the page's origin,
	// usually "/"; empty where there is none (the broker's listener).
	REST string
	// Metrics is the path of the Prometheus scrape on the page's origin,
	// usually "/metrics"; empty where there is none.
	Metrics string
	// Title heads the page ("Tributary" when empty).
	Title string
	// Logger receives the page's log lines; nil discards them.
	Logger *slog.Logger
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("statuspage: no seed brokers"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, errors.New("statuspage: an empty seed broker"))
			break
		}
	}
	for _, p := range []struct{ name, v string }{{"REST", c.REST}, {"Metrics", c.Metrics}} {
		if p.v != "" && !strings.HasPrefix(p.v, "/") {
			errs = append(errs, errors.New("statuspage: "+p.name+" path "+p.v+" does not start with /: the page asks its own origin only"))
		}
	}
	return errors.Join(errs...)
}

// Page is the status page: an http.Handler for Path and everything under
// it. Its Kafka client connects on first use; Close releases it.
type Page struct {
	cfg    Config
	log    *slog.Logger
	cl     *kgo.Client
	adm    *kadm.Client
	mux    *http.ServeMux
	browse chan struct{} // a slot per message browse running at once

	closeOnce sync.Once
}

// New builds the page; nothing connects until a request needs the cluster.
func New(cfg Config) (*Page, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Title == "" {
		cfg.Title = "Tributary"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, err := kgo.NewClient(clientOpts(cfg)...)
	if err != nil {
		return nil, err
	}
	p := &Page{
		cfg:    cfg,
		log:    log,
		cl:     cl,
		adm:    kadm.NewClient(cl),
		mux:    http.NewServeMux(),
		browse: make(chan struct{}, 2),
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		cl.Close()
		return nil, err
	}
	fileServer := http.StripPrefix(Path, http.FileServerFS(files))
	p.mux.Handle("GET "+Path, noCache(fileServer))
	p.mux.HandleFunc("GET "+Path+"api/config", p.getConfig)
	p.mux.HandleFunc("GET "+Path+"api/topics", p.getTopics)
	p.mux.HandleFunc("GET "+Path+"api/groups", p.getGroups)
	p.mux.HandleFunc("GET "+Path+"api/messages", p.getMessages)
	p.mux.HandleFunc("GET "+Path+"api/", func(rw http.ResponseWriter, r *http.Request) {
		writeError(rw, http.StatusNotFound, "no endpoint "+r.Method+" "+r.URL.Path+"; the page serves GET "+Path+"api/topics, groups and messages")
	})
	p.mux.HandleFunc(Path, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Allow", "GET, HEAD")
		writeError(rw, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+" is not served: the status page is read only")
	})
	return p, nil
}

// clientOpts are the options of every client of the page: the caller's,
// then the seeds, so that Brokers wins.
func clientOpts(cfg Config) []kgo.Opt {
	opts := append([]kgo.Opt(nil), cfg.ClientOpts...)
	return append(opts, kgo.SeedBrokers(cfg.Brokers...))
}

// ServeHTTP serves Path and everything under it; other paths get 404.
func (p *Page) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p.mux.ServeHTTP(rw, r)
}

// Close releases the page's Kafka client. It is idempotent; requests
// after it answer 502.
func (p *Page) Close() {
	p.closeOnce.Do(p.cl.Close)
}

// noCache makes browsers ask again for the page's files, so that a new
// binary's page replaces the old one at the next load.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-cache")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(rw, r)
	})
}

func (p *Page) getConfig(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, map[string]string{
		"title":   p.cfg.Title,
		"rest":    p.cfg.REST,
		"metrics": p.cfg.Metrics,
	})
}

// apiError is the REST API's error shape.
type apiError struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(v)
}

func writeError(rw http.ResponseWriter, status int, msg string) {
	writeJSON(rw, status, apiError{ErrorCode: status, Message: msg})
}
