package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/spf13/cobra"
)

// addPprofFlag gives root the persistent --pprof flag: when set, a debug
// HTTP listener serves net/http/pprof's profiles for as long as the command
// runs, and is shut down when it returns. It is off by default.
func addPprofFlag(root *cobra.Command, a *app) {
	var addr string
	root.PersistentFlags().StringVar(&addr, "pprof", "", "serve Go profiles (net/http/pprof) on this host:port while the command runs, e.g. 127.0.0.1:6060")
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if pre != nil {
			if err := pre(cmd, args); err != nil {
				return err
			}
		}
		if addr == "" || cmd.RunE == nil {
			return nil
		}
		stop, err := startPprof(a, addr)
		if err != nil {
			return err
		}
		run := cmd.RunE
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			defer stop()
			return run(cmd, args)
		}
		return nil
	}
}

// startPprof listens on addr and serves the profiles; stop shuts the
// listener down and waits for its goroutine.
func startPprof(a *app, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErrorf("--pprof %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // owned by stop: ends when srv is shut down
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("pprof listener stopped", "err", err)
		}
	}()
	url := fmt.Sprintf("http://%s/debug/pprof/", ln.Addr())
	a.log.Info("serving profiles at "+url, "url", url)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close() // a profile still being taken is cut short
		}
		<-done
	}, nil
}
