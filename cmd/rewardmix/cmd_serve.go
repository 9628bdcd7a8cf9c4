package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
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
otherwise, and prints the address; it opens nothing by itself. It answers
only requests addressed to its own names (a guard against DNS rebinding):
a classroom on --addr 0.0.0.0:8080 needs --allow-host with the name or
address the other machines use. Ctrl-C stops it.`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveSynopsis)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	sims := fs.Int("max-sims", runtime.GOMAXPROCS(0), fmt.Sprintf("simulations run at once (1 to 64). While all are running, up to %d more scenarios (distinct, not cached) wait for a free one, each for at most %v; "+
		"a request that finds %d already waiting gets 503 (busy) at once, and one whose wait runs out gets 503 then",
		workshop.MaxQueued, workshop.QueueWait, workshop.MaxQueued))
	var allow []string
	fs.Func("allow-host", "also answer requests addressed to `HOST` (a name or IP, at the --addr port unless given as HOST:PORT; repeatable). "+
		"Requests addressed to any other host get 421, a guard against DNS rebinding. Always answered: the --addr host, and localhost, 127.0.0.1 and [::1] "+
		"when --addr is loopback or 0.0.0.0/[::]. So with --addr 0.0.0.0:8080 alone only this machine's browser is served: "+
		"allow the name or address the other machines use, e.g. --allow-host 192.168.1.20 --allow-host teacher.local",
		func(s string) error {
			if err := workshop.CheckAllowHost(s); err != nil {
				return err
			}
			allow = append(allow, s)
			return nil
		})
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
	bound := ln.Addr().(*net.TCPAddr).AddrPort()
	hosts, err := workshop.NewHosts(host, bound, allow)
	if err != nil {
		ln.Close()
		return inputErrorf("%v", err)
	}
	port := int(bound.Port())
	url := fmt.Sprintf("http://%s/", net.JoinHostPort(host, strconv.Itoa(port)))
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "warning: listening on %s: anyone who can reach this machine on that network can use the page and run simulations on it (it reads and writes no files)\n", ln.Addr())
	}
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		var others []string
		for _, h := range hosts.Added() {
			others = append(others, "http://"+h+"/")
		}
		if len(others) > 0 {
			url = fmt.Sprintf("http://127.0.0.1:%d/ on this machine, %s from others", port, strings.Join(others, " or "))
		} else {
			url = fmt.Sprintf("http://127.0.0.1:%d/ on this machine only", port)
			fmt.Fprintf(stderr, "note: other machines are refused (421) until --allow-host names the address they use%s\n", addressHint())
		}
	}
	srv := &http.Server{
		Handler:           workshop.Handler(ctx, *sims, hosts),
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

// addressHint lists this machine's network addresses, for --allow-host:
// ", e.g. --allow-host 192.168.1.20 (this machine's addresses: ...)", or
// nothing when it has none but loopback and link-local ones.
func addressHint() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v4, v6 []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
			if n.IP.To4() != nil {
				v4 = append(v4, n.IP.String())
			} else {
				v6 = append(v6, n.IP.String())
			}
		}
	}
	ips := append(v4, v6...)
	ips = ips[:min(len(ips), 8)]
	if len(ips) == 0 {
		return ""
	}
	return fmt.Sprintf(", e.g. --allow-host %s (this machine's addresses: %s)", ips[0], strings.Join(ips, ", "))
}
