package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveWith runs `rewardmix serve ARGS` and returns the first URL it
// prints and, once ctx ends and it has stopped, what it wrote to stderr.
func serveWith(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		err := runServe(ctx, args, pw, &errb)
		pw.Close()
		done <- err
	}()
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve %v: %v", args, err)
			}
		}
		return errb.String()
	}
	t.Cleanup(func() { stop() })
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve %v printed no address: %v", args, err)
	}
	go io.Copy(io.Discard, pr)
	u := regexp.MustCompile(`http://[^ ]+/`).FindString(line)
	if u == "" {
		t.Fatalf("no URL in %q", line)
	}
	return u, stop
}

// statusFor asks base's /api/presets with the Host header host.
func statusFor(t *testing.T, base, host string) int {
	t.Helper()
	req, err := http.NewRequest("GET", base+"api/presets", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeAllowHost: the server answers its loopback names and the
// --allow-host ones, and refuses (421) requests addressed to any other
// host, as a DNS rebinding page's would be.
func TestServeAllowHost(t *testing.T) {
	base, _ := serveWith(t, "--addr", "127.0.0.1:0", "--allow-host", "teacher.local", "--allow-host", "localhost:9000")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	for host, want := range map[string]int{
		"127.0.0.1:" + port:     200,
		"localhost:" + port:     200,
		"teacher.local:" + port: 200,
		"localhost:9000":        200,
		"evil.example:" + port:  421,
		"teacher.local:9000":    421,
		"localhost":             421,
	} {
		if got := statusFor(t, base, host); got != want {
			t.Errorf("Host %q: status %d, want %d", host, got, want)
		}
	}
}

// TestServeClassroom: bound to 0.0.0.0 without --allow-host, it serves
// this machine's browser only and says how to let others in; with it,
// it prints the URL the others use.
func TestServeClassroom(t *testing.T) {
	base, stop := serveWith(t, "--addr", "0.0.0.0:0")
	u, _ := url.Parse(base)
	if got := statusFor(t, base, "localhost:"+u.Port()); got != 200 {
		t.Errorf("0.0.0.0, Host localhost: status %d, want 200", got)
	}
	if got := statusFor(t, base, "teacher.local:"+u.Port()); got != 421 {
		t.Errorf("0.0.0.0, Host teacher.local: status %d, want 421", got)
	}
	if msg := stop(); !strings.Contains(msg, "--allow-host") {
		t.Errorf("0.0.0.0 without --allow-host: stderr does not say how to let other machines in: %q", msg)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	if err := runServe(ctx, []string{"--addr", "0.0.0.0:0", "--allow-host", "teacher.local", "--allow-host", "192.168.1.20"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`http://teacher\.local:\d+/ or http://192\.168\.1\.20:\d+/ from others`).MatchString(out.String()) {
		t.Errorf("0.0.0.0 with --allow-host: the URLs for other machines are not printed: %q", out.String())
	}
}

// TestServeFlagsDocumented: --help states the host check and the queue
// as the server applies them, and a bad --allow-host is a usage error.
func TestServeFlagsDocumented(t *testing.T) {
	r := rewardmix(t, "serve", "--help")
	for _, want := range []string{"-allow-host HOST", "421", "DNS rebinding", "0.0.0.0:8080", "repeatable",
		"up to 32 more", "at most 10s", "32 already waiting gets 503 (busy) at once", "wait runs out gets 503"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, bad := range []string{"http://teacher.local:8080/", "*", "teacher.local:0", ""} {
		if r := rewardmix(t, "serve", "--addr", "127.0.0.1:0", "--allow-host", bad); r.code != exitInput || !strings.Contains(r.stderr, "allow-host") {
			t.Errorf("--allow-host %q: exit %d, want %d naming the flag (%s)", bad, r.code, exitInput, r.stderr)
		}
	}
}
