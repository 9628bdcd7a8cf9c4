package workshop

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"codeberg.org/go-fonts/liberation/liberationserifregular"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

//go:embed web
var webFiles embed.FS

// Request limits: a request carries its parameters in the URL, so a body
// is never needed; headers and URL stay small.
const (
	// MaxHeaderBytes is the header size a server of the page should allow.
	MaxHeaderBytes = 16 << 10
	maxBodyBytes   = 1 << 10
)

// Handler answers the page, its assets and its JSON API for a server whose
// life is ctx, to requests addressed to one of hosts (others get 421; see
// Hosts). Every route answers GET (and HEAD) only.
//
// At most sims simulations run at once. A scene that is neither cached nor
// already being run waits for a free slot; at most MaxQueued such runs
// wait at a time, each for at most QueueWait. A request that finds
// MaxQueued runs already waiting, or whose run waits QueueWait without a
// slot, gets 503 with a one-line JSON message saying the server is busy.
// Requests for the same scenario share one run, and so one place in the
// queue; a cached scene is answered at once.
func Handler(ctx context.Context, sims int, hosts *Hosts) http.Handler {
	if hosts == nil {
		panic("workshop: Handler needs the hosts it answers to")
	}
	return newServeMux(newWorkshop(ctx, sims, 128, QueueWait), hosts)
}

// newServeMux routes the page, its assets and the JSON API, for requests
// addressed to one of hosts.
func newServeMux(w *workshop, hosts *Hosts) http.Handler {
	static, err := fs.Sub(webFiles, "web/static")
	if err != nil {
		panic("workshop: embedded web files: " + err.Error())
	}
	mux := http.NewServeMux()
	files := http.FileServer(http.FS(static))
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /static/serif.ttf", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "font/ttf")
		rw.Header().Set("Cache-Control", "max-age=86400")
		rw.Write(liberationserifregular.TTF)
	})
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		b, _ := webFiles.ReadFile("web/index.html")
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(b)
	})
	mux.HandleFunc("GET /api/presets", func(rw http.ResponseWriter, r *http.Request) {
		if len(r.URL.Query()) > 0 {
			httpError(rw, http.StatusBadRequest, "/api/presets takes no parameters")
			return
		}
		ps, err := presetKnobs()
		if err != nil {
			httpError(rw, http.StatusInternalServerError, "presets: "+err.Error())
			return
		}
		writeJSON(rw, ps)
	})
	mux.HandleFunc("GET /api/story", func(rw http.ResponseWriter, r *http.Request) {
		if len(r.URL.Query()) > 0 {
			httpError(rw, http.StatusBadRequest, "/api/story takes no parameters")
			return
		}
		var steps []map[string]string
		for _, st := range story {
			steps = append(steps, map[string]string{"title": st.Title, "focus": st.Focus})
		}
		writeJSON(rw, steps)
	})
	mux.HandleFunc("GET /api/scene", func(rw http.ResponseWriter, r *http.Request) {
		serveScene(w, rw, r)
	})
	return checkHost(hosts, limitRequests(securityHeaders(mux)))
}

// presetKnob describes one preset's scenario for the page: the knobs and
// their ranges.
type presetKnob struct {
	Name         string               `json:"name"`
	Description  string               `json:"description"`
	Primary      string               `json:"primary"`
	Signals      []signalKnob         `json:"signals"`
	Scenario     scenario             `json:"scenario"`
	WeightModes  []reward.WeightMode  `json:"weight_modes"`
	Aggregations []reward.Aggregation `json:"aggregations"`
	Limits       map[string]any       `json:"limits"`
}

type signalKnob struct {
	Name   string      `json:"name"`
	Kind   reward.Kind `json:"kind"`
	Weight float64     `json:"weight"`
	Max    float64     `json:"max"`
}

func presetKnobs() ([]presetKnob, error) {
	var out []presetKnob
	for _, name := range configs.PresetNames() {
		s, cfg, err := scenarioOf(name)
		if err != nil {
			return nil, err
		}
		p := presetKnob{Name: name, Description: cfg.Description, Primary: cfg.Primary, Scenario: s,
			WeightModes: reward.WeightModes, Aggregations: reward.Aggregations,
			Limits: map[string]any{"weight": maxScenarioWeight, "beta": []float64{minScenarioBeta, maxScenarioBeta},
				"steps": []int{minScenarioSteps, maxScenarioSteps}, "users": []int{minScenarioUsers, maxScenarioUsers}}}
		for _, n := range sim.Names(cfg.Signals) {
			sig := cfg.Signals[n]
			p.Signals = append(p.Signals, signalKnob{Name: n, Kind: sig.Kind, Weight: sig.Weight, Max: sliderMax(sig.Weight)})
		}
		out = append(out, p)
	}
	return out, nil
}

// sliderMax is the top of a weight slider: room to triple the weight, and
// at least 4.
func sliderMax(w float64) float64 { return max(4, math.Ceil(3*w)) }

// sceneResponse is the answer to /api/scene: the scene, and the story step
// when one was asked for.
type sceneResponse struct {
	*scene
	Story  *storyStop `json:"story,omitempty"`
	Millis float64    `json:"millis"` // time the run and its figures took (0 from the cache)
}

type storyStop struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Title string `json:"title"`
	Text  string `json:"text"`
	Ask   string `json:"ask"`
	Focus string `json:"focus"`
}

// serveScene answers /api/scene?PARAMS, or /api/scene?story=N for step N
// of the story (then no other parameter).
func serveScene(w *workshop, rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var stop *storyStop
	var s scenario
	var err error
	if v, ok := q["story"]; ok {
		if len(q) != 1 || len(v) != 1 {
			httpError(rw, http.StatusBadRequest, "story=N takes no other parameter")
			return
		}
		i, perr := strconv.Atoi(v[0])
		if perr != nil || i < 0 || i >= len(story) {
			httpError(rw, http.StatusBadRequest, fmt.Sprintf("story: %q is not a step number in [0, %d]", v[0], len(story)-1))
			return
		}
		st := story[i]
		stop = &storyStop{Index: i, Count: len(story), Title: st.Title, Ask: st.Ask, Focus: st.Focus}
		s, err = storyScenario(st)
	} else {
		s, err = parseScenario(q)
	}
	var sc *scene
	var took time.Duration
	if err == nil {
		sc, took, err = w.scene(r.Context(), s)
	}
	if err == nil && stop != nil {
		var inc *scene
		if inc, _, err = w.scene(r.Context(), mustStoryScenario("preset=incident")); err == nil {
			stop.Text, err = storyText(story[stop.Index], sc, s.Weights, inc.Headline)
		}
	}
	var br *badRequest
	switch {
	case errors.As(err, &br): // the parameters, or the config they make
		httpError(rw, http.StatusBadRequest, br.msg)
		return
	case errors.Is(err, errBusy):
		httpError(rw, http.StatusServiceUnavailable, errBusy.Error())
		return
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client left, or the server is stopping: no one reads this.
		httpError(rw, http.StatusServiceUnavailable, "the request was cancelled")
		return
	case err != nil:
		httpError(rw, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(rw, sceneResponse{scene: sc, Story: stop, Millis: float64(took.Microseconds()) / 1000})
}

func mustStoryScenario(query string) scenario {
	s, err := storyScenario(storyStep{Query: query})
	if err != nil {
		panic("workshop: story scenario " + query + ": " + err.Error())
	}
	return s
}

// httpError answers with a status and a one-line JSON message; never a
// stack trace.
func httpError(rw http.ResponseWriter, code int, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(code)
	json.NewEncoder(rw).Encode(map[string]string{"error": msg})
}

func writeJSON(rw http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		httpError(rw, http.StatusInternalServerError, "encoding: "+err.Error())
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.Write(b)
}

// securityHeaders keeps the page to its own assets: no script, style or
// font from elsewhere, no framing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(rw, r)
	})
}

// limitRequests refuses bodies larger than maxBodyBytes and methods other
// than GET and HEAD, with the message the client needs.
func limitRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			rw.Header().Set("Allow", "GET, HEAD")
			httpError(rw, http.StatusMethodNotAllowed, r.Method+" is not allowed: the workshop only answers GET")
			return
		}
		if r.ContentLength > maxBodyBytes {
			httpError(rw, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(rw, r.Body, maxBodyBytes)
		if len(r.URL.RawQuery) > 4096 {
			httpError(rw, http.StatusRequestURITooLong, "query too long")
			return
		}
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			httpError(rw, http.StatusBadRequest, "malformed query: "+err.Error())
			return
		}
		h.ServeHTTP(rw, r)
	})
}
