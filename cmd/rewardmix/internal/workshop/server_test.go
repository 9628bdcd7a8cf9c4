package workshop

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rewardmix/rewardmix/configs"
)

// TestScenarioIdentity: a preset's own scenario applied to it gives the
// preset back, for every preset: the knobs change nothing they are not
// asked to.
func TestScenarioIdentity(t *testing.T) {
	for _, name := range configs.PresetNames() {
		s, want, err := scenarioOf(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.config()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the preset's own scenario changed its config:\n got %+v\nwant %+v", name, got, want)
		}
		q, err := parseScenario(s.query())
		if err != nil || !reflect.DeepEqual(q, s) {
			t.Errorf("%s: query round trip: %v\n got %+v\nwant %+v", name, err, q, s)
		}
	}
}

// TestScenarioKnobs: each knob lands where it should in the config.
func TestScenarioKnobs(t *testing.T) {
	q, _ := url.ParseQuery("preset=incident&w.thumbs=0.75&weights=absolute&aggregation=normalize_then_sum&memory=off&update_step=100&beta=0.05&steps=200&users=300&seed=7")
	s, err := parseScenario(q)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Signals["thumbs"].Weight != 0.75 || cfg.Train.Weights != "absolute" || cfg.Train.Aggregation != "normalize_then_sum" ||
		cfg.Train.Beta != 0.05 || cfg.Train.Steps != 200 || cfg.Population.Users != 300 || cfg.Seed != 7 {
		t.Errorf("knobs not applied: %+v", cfg.Train)
	}
	if cfg.Memory.Enabled {
		t.Error("memory=off left memory on")
	}
	if _, ok := cfg.Signals["memory"]; ok {
		t.Error("memory=off kept the memory signal")
	}
	if cfg.Train.UpdateStep != 100 || cfg.Signals["thumbs"].StartStep != 100 {
		t.Errorf("update_step 100: update %d, thumbs start %d", cfg.Train.UpdateStep, cfg.Signals["thumbs"].StartStep)
	}
	if cfg.Signals["spec"].StartStep != 0 {
		t.Errorf("moving the update step moved a signal that starts at 0: %d", cfg.Signals["spec"].StartStep)
	}
}

// TestScenarioRefused: every malformed or out-of-range parameter is a
// badRequest naming the parameter.
func TestScenarioRefused(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"preset=nope", "preset"},
		{"preset=../../etc/passwd", "preset"},
		{"preset=/tmp/x.toml", "preset"},
		{"w.thumbs=-1", "w.thumbs"},
		{"w.thumbs=21", "w.thumbs"},
		{"w.thumbs=NaN", "w.thumbs"},
		{"w.thumbs=Inf", "w.thumbs"},
		{"w.thumbs=1&w.thumbs=2", "given 2 times"},
		{"w.nosuch=1", "unknown parameter"},
		{"colour=red", "unknown parameter"},
		{"weights=relative", "weights"},
		{"aggregation=max", "aggregation"},
		{"memory=maybe", "memory"},
		{"beta=0", "beta"},
		{"beta=11", "beta"},
		{"steps=5", "steps"},
		{"steps=1000000", "steps"},
		{"users=1", "users"},
		{"users=100000", "users"},
		{"update_step=0", "update_step"},
		{"update_step=300", "update_step"},
		{"steps=100", "update_step"}, // the preset's update step 150 is past 100 steps
		{"seed=-1", "seed"},
		{"seed=99999999999999999999", "seed"},
		{"w.thumbs=" + strings.Repeat("1", 100), "longer than"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseScenario(q)
		br, ok := err.(*badRequest)
		if !ok || !strings.Contains(br.msg, tc.want) {
			t.Errorf("%s: got %v, want a bad request mentioning %q", tc.query, err, tc.want)
		}
	}
}

// FuzzParseScenario: no query makes the parser panic, and every scenario it
// accepts either builds a valid config or is refused as a bad request.
func FuzzParseScenario(f *testing.F) {
	for _, s := range []string{"", "preset=incident", "w.thumbs=1&memory=off", "steps=10&update_step=9", "beta=1e-3&users=10",
		"preset=baseline&memory=on&update_step=1", "w.spec=0&w.correctness=0&weights=sum_to_one"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, err := parseScenario(q)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("%q: error of type %T: %v", raw, err, err)
			}
			return
		}
		if _, err := s.config(); err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("%q: config error of type %T: %v", raw, err, err)
			}
		}
	})
}

func testServer(t *testing.T, slots int, wait time.Duration) (*httptest.Server, *workshop) {
	t.Helper()
	w := newWorkshop(t.Context(), slots, 16, wait)
	srv := httptest.NewUnstartedServer(nil)
	hosts, err := NewHosts("127.0.0.1", srv.Listener.Addr().(*net.TCPAddr).AddrPort(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = newServeMux(w, hosts)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, w
}

func get(t *testing.T, u string) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

// TestServeScene: a scene has the three figures as SVG, the headline and
// the review; the same scenario again comes from the cache.
func TestServeScene(t *testing.T) {
	srv, _ := testServer(t, 2, time.Second)
	code, m, body := get(t, srv.URL+"/api/scene?preset=incident&steps=40&update_step=20&users=50")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	figs := m["figures"].(map[string]any)
	for _, k := range []string{"drift", "segments", "influence"} {
		if s, _ := figs[k].(string); !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
			t.Errorf("figure %s is not an svg element: %.60q", k, s)
		}
	}
	h := m["headline"].(map[string]any)
	if h["primary"] != "spec" || h["segment"] != "vulnerable" || h["decision"] == "" {
		t.Errorf("headline: %v", h)
	}
	if m["millis"].(float64) <= 0 {
		t.Errorf("a fresh run reports millis %v", m["millis"])
	}
	_, again, _ := get(t, srv.URL+"/api/scene?users=50&update_step=20&steps=40&preset=incident")
	if again["millis"].(float64) != 0 {
		t.Errorf("the same scenario in another order was run again (millis %v), not served from the cache", again["millis"])
	}
	if again["query"] != m["query"] {
		t.Errorf("canonical queries differ: %v vs %v", again["query"], m["query"])
	}
}

// TestServeRefuses: bad requests get 4xx with a one-line JSON message and
// never a stack trace; nothing outside the embedded files is served.
func TestServeRefuses(t *testing.T) {
	srv, w := testServer(t, 1, 20*time.Millisecond)
	for _, tc := range []struct {
		method, path string
		body         string
		code         int
	}{
		{"GET", "/api/scene?w.thumbs=abc", "", 400},
		{"GET", "/api/scene?steps=100000", "", 400},
		{"GET", "/api/scene?users=100000", "", 400},
		{"GET", "/api/scene?story=99", "", 400},
		{"GET", "/api/scene?story=-1", "", 400},
		{"GET", "/api/scene?story=1&preset=incident", "", 400},
		{"GET", "/api/scene?%zz", "", 400},
		{"GET", "/api/scene?preset=" + strings.Repeat("a", 5000), "", 414},
		{"GET", "/api/presets?x=1", "", 400},
		{"POST", "/api/scene", "preset=incident", 405},
		{"PUT", "/", "", 405},
		{"GET", "/api/scene", strings.Repeat("x", 4096), 413},
		{"GET", "/static/../../../etc/passwd", "", 404},
		{"GET", "/etc/passwd", "", 404},
		{"GET", "/api/nothing", "", 404},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %.60s: status %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.code, b)
		}
		if strings.Contains(string(b), "goroutine") || strings.Contains(string(b), ".go:") || strings.Contains(string(b), "root:") {
			t.Errorf("%s %.60s: the answer leaks internals: %s", tc.method, tc.path, b)
		}
		if tc.code == 400 {
			var m map[string]string
			if json.Unmarshal(b, &m) != nil || m["error"] == "" {
				t.Errorf("%s %.60s: want a JSON error message, got %s", tc.method, tc.path, b)
			}
		}
	}

	// Every slot taken: the request waits its turn, then gets 503.
	w.slots <- struct{}{}
	code, m, _ := get(t, srv.URL+"/api/scene?steps=20&update_step=10&users=50")
	<-w.slots
	if code != http.StatusServiceUnavailable || !strings.Contains(m["error"].(string), "busy") {
		t.Errorf("with every slot taken: status %d, %v; want 503 busy", code, m)
	}
	// A busy answer is not cached: the same scenario runs once a slot frees.
	if code, _, body := get(t, srv.URL+"/api/scene?steps=20&update_step=10&users=50"); code != 200 {
		t.Errorf("after the slot freed: status %d: %s", code, body)
	}
}

// TestServePage: the page and its assets come from the binary, with a
// content security policy that allows nothing from elsewhere.
func TestServePage(t *testing.T) {
	srv, _ := testServer(t, 1, time.Second)
	for path, want := range map[string]string{
		"/":                 "<script src=\"/static/app.js\">",
		"/static/app.js":    "/api/scene?",
		"/static/style.css": "@font-face",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: status %d, body lacks %q", path, resp.StatusCode, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s refers to another site (the page must work offline)", path)
		}
	}
	code, _, body := get(t, srv.URL+"/api/presets")
	if code != 200 || !strings.Contains(body, `"name":"incident"`) || !strings.Contains(body, `"thumbs"`) {
		t.Errorf("/api/presets: %d %.200s", code, body)
	}
	code, _, body = get(t, srv.URL+"/api/story")
	if code != 200 || strings.Count(body, `"title"`) != len(story) {
		t.Errorf("/api/story: %d %.200s", code, body)
	}
}

// BenchmarkScene is the server's work for one slider change at the
// incident preset: the run and its three SVG figures.
func BenchmarkScene(b *testing.B) {
	s, _, err := scenarioOf("incident")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := s.config()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := simulateScene(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestServeSharedRun: two clients ask for the same scenario while every
// slot is taken; the first gives up, and the second still gets its scene
// once a slot frees (the run belongs to no one request).
func TestServeSharedRun(t *testing.T) {
	srv, w := testServer(t, 1, 5*time.Second)
	const q = "/api/scene?steps=20&update_step=10&users=50&seed=3"
	w.slots <- struct{}{} // every slot taken
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+q, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the first client was answered (%d) while every slot was taken", resp.StatusCode)
	}
	second := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + q)
		if err != nil {
			second <- -1
			return
		}
		resp.Body.Close()
		second <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the second client is waiting on the shared run
	<-w.slots                          // a slot frees
	if code := <-second; code != http.StatusOK {
		t.Errorf("the second client got %d after the first gave up; want 200", code)
	}
}
