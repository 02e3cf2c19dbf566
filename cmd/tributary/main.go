// Command tributary is a Kafka-Connect-style file connector runtime with a
// bundled Kafka-compatible broker, and Kafka's command-line tools in one
// binary. Run `tributary --help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code: 0 on
// success, 1 on a runtime failure, 2 on a usage error. The first SIGINT or
// SIGTERM cancels the command's context so that it can stop cleanly; a
// second one ends the process at once. Kafka's tools then exit as Kafka's
// do, with 128 plus the signal's number (exitCodeAfterSignal).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	return a.executeWithSignals(a.root(), args)
}

func (a *app) executeWithSignals(root *cobra.Command, args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	stopped := make(chan struct{})
	// caught is the first signal; written before stopped is closed.
	var caught os.Signal
	go func() { // owned by run: ends when run returns
		defer close(stopped)
		select {
		case caught = <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(a.stderr, "tributary: second %v, exiting now\n", sig)
			os.Exit(1)
		case <-done:
		}
	}()

	cmd, code := a.executeC(ctx, root, args)
	close(done)
	<-stopped
	return exitCodeAfterSignal(cmd, code, caught)
}
