package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/rewardmix/rewardmix/cmd/rewardmix/internal/workshop"
)

const serveSynopsis = `serve [flags]

Serves the workshop page: sliders for each signal weight of a preset, the
weighting and aggregation modes, memory, the update step and the KL
coefficient; the drift, segment and influence figures and the headline
numbers follow every change (the server re-runs the simulation). Story mode
steps through the incident and its fixes. Everything is embedded: the page
works without a network. It listens on 127.0.0.1 unless --addr says
otherwise, and prints the address; it opens nothing by itself. Ctrl-C stops
it.`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveSynopsis)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	sims := fs.Int("max-sims", runtime.GOMAXPROCS(0), "simulations run at once; further requests wait up to 10 s, then get 503")
	if rest, err := parseFlags(fs, args, stdout); err != nil {
		return err
	} else if len(rest) > 0 {
		return inputErrorf("serve takes no arguments (got %q)", rest)
	}
	if *sims < 1 || *sims > 64 {
		return inputErrorf("--max-sims %d: want 1 to 64", *sims)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return inputErrorf("--addr %q: want host:port, e.g. 127.0.0.1:8080", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return inputErrorf("--addr %s: %v (another server on that port? try another, or port 0 for a free one)", *addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("http://%s/", net.JoinHostPort(host, strconv.Itoa(port)))
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "warning: listening on %s: anyone who can reach this machine on that network can use the page and run simulations on it (it reads and writes no files)\n", ln.Addr())
	}
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		url = fmt.Sprintf("http://127.0.0.1:%d/ on this machine, http://<this machine's address>:%d/ from others", port, port)
	}
	srv := &http.Server{
		Handler:           workshop.Handler(ctx, *sims),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    workshop.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(stdout, "rewardmix workshop: %s  (Ctrl-C to stop)\n", url)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}
