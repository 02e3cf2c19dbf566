package main

import (
	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/profiling"
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

func startPprof(a *app, addr string) (stop func(), err error) {
	stop, err = profiling.Serve(addr, a.log)
	if err != nil {
		return nil, usageErrorf("--pprof %s: %v", addr, err)
	}
	return stop, nil
}
