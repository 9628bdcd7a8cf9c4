package workshop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestServeHostCheck: a request addressed to a host other than the
// server's own names (a DNS rebinding page, evil.example resolving to
// 127.0.0.1) gets 421 with a one-line JSON message, on every route;
// the loopback names at the server's port are answered.
func TestServeHostCheck(t *testing.T) {
	srv, _ := testServer(t, 1, time.Second)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := fmt.Sprint(port)
	for _, tc := range []struct {
		host string
		code int
	}{
		{"127.0.0.1:" + p, 200},
		{"localhost:" + p, 200},
		{"LocalHost:" + p, 200},
		{"[::1]:" + p, 200},
		{"evil.example:" + p, 421},
		{"evil.example", 421},
		{"localhost", 421},             // port 80, not the server's
		{"127.0.0.1:1", 421},           // another port
		{"127.0.0.1.nip.io:" + p, 421}, // a name that resolves to loopback
		{"0.0.0.0:" + p, 421},
		{"192.168.1.20:" + p, 421},
	} {
		for _, path := range []string{"/", "/static/app.js", "/api/presets", "/api/scene?steps=20&update_step=10&users=50", "/nothing"} {
			req, err := http.NewRequest("GET", srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := tc.code
			if want == 200 && path == "/nothing" {
				want = 404
			}
			if resp.StatusCode != want {
				t.Errorf("Host %q, %s: status %d, want %d (%.200s)", tc.host, path, resp.StatusCode, want, b)
			}
			if want != 421 {
				continue
			}
			var m map[string]string
			if json.Unmarshal(b, &m) != nil || strings.Count(strings.TrimSpace(string(b)), "\n") != 0 ||
				!strings.Contains(m["error"], "DNS rebinding") || !strings.Contains(m["error"], "--allow-host") {
				t.Errorf("Host %q, %s: want a one-line JSON message naming --allow-host, got %s", tc.host, path, b)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Host %q, %s: Content-Type %q", tc.host, path, resp.Header.Get("Content-Type"))
			}
		}
	}

	// The message names the fix for the host asked for.
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Host = "Teacher.Local:" + p
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "--allow-host teacher.local") {
		t.Errorf("the refusal does not name the fix --allow-host teacher.local: %s", b)
	}

	// HTTP/1.0 may leave the Host out: refused too.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /api/presets HTTP/1.0\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a request without Host: status %d, want 421", resp.StatusCode)
	}
}

// TestNewHosts: which Host headers a server answers, by --addr and
// --allow-host.
func TestNewHosts(t *testing.T) {
	for _, tc := range []struct {
		bind  string
		bound string
		allow []string
		yes   []string
		no    []string
	}{
		{"127.0.0.1", "127.0.0.1:8080", nil,
			[]string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST:8080", "localhost.:8080", "[::ffff:127.0.0.1]:8080"},
			[]string{"localhost", "localhost:80", "localhost:8081", "127.0.0.2:8080", "evil.example:8080", "", ":8080", "localhost:", "localhost:x", "localhost:+8080"}},
		{"127.0.0.1", "127.0.0.1:80", nil,
			[]string{"localhost", "127.0.0.1", "localhost:80", "[::1]", "localhost:"},
			[]string{"localhost:8080", "evil.example"}},
		{"localhost", "127.0.0.1:8080", nil,
			[]string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"},
			[]string{"evil.example:8080"}},
		{"127.0.0.1", "127.0.0.1:8080", []string{"localhost:9000"}, // an ssh tunnel from port 9000
			[]string{"localhost:9000", "localhost:8080"},
			[]string{"localhost:9001"}},
		// A classroom: 0.0.0.0 serves this machine's browser only, until
		// the names other machines use are allowed.
		{"0.0.0.0", "0.0.0.0:8080", nil,
			[]string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"},
			[]string{"0.0.0.0:8080", "192.168.1.20:8080", "teacher.local:8080", "evil.example:8080"}},
		{"", "[::]:8080", nil,
			[]string{"localhost:8080", "[::1]:8080"},
			[]string{"[::]:8080", ":8080", "teacher.local:8080"}},
		{"0.0.0.0", "0.0.0.0:8080", []string{"192.168.1.20", "Teacher.Local", "10.0.0.1:9000", "2001:db8::1", "[2001:db8::2]", "[2001:db8::3]:8080"},
			[]string{"localhost:8080", "192.168.1.20:8080", "teacher.local:8080", "TEACHER.local.:8080", "10.0.0.1:9000",
				"[2001:db8::1]:8080", "[2001:DB8:0::1]:8080", "[2001:db8::2]:8080", "[2001:db8::3]:8080"},
			[]string{"192.168.1.20:80", "192.168.1.20", "10.0.0.1:8080", "teacher.local.evil.example:8080", "evil.teacher.local:8080", "192.168.1.21:8080"}},
		// Bound to one network address: that address, not the loopback names.
		{"192.168.1.20", "192.168.1.20:8080", nil,
			[]string{"192.168.1.20:8080"},
			[]string{"localhost:8080", "127.0.0.1:8080", "evil.example:8080"}},
		{"teacher.local", "192.168.1.20:8080", nil,
			[]string{"teacher.local:8080", "192.168.1.20:8080"},
			[]string{"localhost:8080", "evil.example:8080"}},
	} {
		h, err := NewHosts(tc.bind, netip.MustParseAddrPort(tc.bound), tc.allow)
		if err != nil {
			t.Fatalf("bind %q %s allow %q: %v", tc.bind, tc.bound, tc.allow, err)
		}
		for _, host := range tc.yes {
			if !h.Allows(host) {
				t.Errorf("bind %q %s allow %q: Host %q refused, want answered", tc.bind, tc.bound, tc.allow, host)
			}
		}
		for _, host := range tc.no {
			if h.Allows(host) {
				t.Errorf("bind %q %s allow %q: Host %q answered, want refused", tc.bind, tc.bound, tc.allow, host)
			}
		}
	}
	h, err := NewHosts("0.0.0.0", netip.MustParseAddrPort("0.0.0.0:8080"), []string{"Teacher.Local", "10.0.0.1:9000", "2001:db8::1", "teacher.local"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(h.Added(), " "), "teacher.local:8080 10.0.0.1:9000 [2001:db8::1]:8080"; got != want {
		t.Errorf("Added: %q, want %q", got, want)
	}
}

// TestCheckAllowHost: --allow-host takes a host name or an IP address,
// with an optional port, and nothing else.
func TestCheckAllowHost(t *testing.T) {
	for _, s := range []string{"teacher.local", "TEACHER", "my_pc.lan", "192.168.1.20", "192.168.1.20:8080", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:8080", "localhost:9000", "xn--bcher-kva.example"} {
		if err := CheckAllowHost(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "*", "*.local", "http://teacher.local", "teacher.local/", "http://teacher.local:8080/", "a b", "teacher..local",
		"-teacher", "[192.168.1.20]", "[teacher.local]:8080", "teacher.local:0", "teacher.local:65536", "teacher.local:http", "fe80::1%eth0", ":8080", "a:b:c:d"} {
		if err := CheckAllowHost(s); err == nil {
			t.Errorf("%q: accepted, want refused", s)
		}
	}
	if _, err := NewHosts("0.0.0.0", netip.MustParseAddrPort("0.0.0.0:8080"), []string{"http://x/"}); err == nil {
		t.Error("NewHosts accepted --allow-host http://x/")
	}
}
