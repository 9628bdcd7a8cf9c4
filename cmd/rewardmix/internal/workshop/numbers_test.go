package workshop

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestScenarioNumbersStrict: every numeric parameter is a plain decimal
// (sign, digits, fraction, exponent); the other forms strconv takes
// (underscores, hexadecimal, Inf, NaN) and half-numbers are refused,
// naming the parameter.
func TestScenarioNumbersStrict(t *testing.T) {
	for _, tc := range []struct{ query, param string }{
		{"w.thumbs=1_0", "w.thumbs"},
		{"w.thumbs=1_000.5", "w.thumbs"},
		{"w.thumbs=0_1", "w.thumbs"},
		{"w.thumbs=0x1p-2", "w.thumbs"},
		{"w.thumbs=0x1P2", "w.thumbs"},
		{"w.thumbs=0x10", "w.thumbs"},
		{"w.thumbs=inf", "w.thumbs"},
		{"w.thumbs=%2BInf", "w.thumbs"},
		{"w.thumbs=infinity", "w.thumbs"},
		{"w.thumbs=nan", "w.thumbs"},
		{"w.thumbs=.5", "w.thumbs"},
		{"w.thumbs=1.", "w.thumbs"},
		{"w.thumbs=1e", "w.thumbs"},
		{"w.thumbs=1e%2B", "w.thumbs"},
		{"w.thumbs=1.5.2", "w.thumbs"},
		{"w.thumbs=--1", "w.thumbs"},
		{"w.thumbs=%2B-1", "w.thumbs"},
		{"w.thumbs= 1", "w.thumbs"},
		{"w.thumbs=1 ", "w.thumbs"},
		{"w.thumbs=", "w.thumbs"},
		{"w.thumbs=１", "w.thumbs"}, // a full-width digit
		{"beta=0x1p-4", "beta"},
		{"beta=1_0e-2", "beta"},
		{"beta=1e-0_1", "beta"},
		{"steps=1_00", "steps"},
		{"steps=0x40", "steps"},
		{"steps=100.0", "steps"},
		{"steps=1e2", "steps"},
		{"users=1_000", "users"},
		{"update_step=1_0", "update_step"},
		{"seed=0x7", "seed"},
		{"seed=1_0", "seed"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseScenario(q)
		br, ok := err.(*badRequest)
		if !ok || !strings.HasPrefix(br.msg, tc.param+": ") {
			t.Errorf("%s: got %v, want a bad request naming %s", tc.query, err, tc.param)
		}
	}
	for query, want := range map[string]string{
		"w.thumbs=1.5":        "w.thumbs=1.5",
		"w.thumbs=%2B1.5":     "w.thumbs=1.5",
		"w.thumbs=15e-1":      "w.thumbs=1.5",
		"w.thumbs=0.15E%2B01": "w.thumbs=1.5",
		"w.thumbs=007":        "w.thumbs=7",
		"w.thumbs=-0":         "w.thumbs=0",
		"w.thumbs=-0.0e5":     "w.thumbs=0",
		"w.thumbs=1e-999":     "w.thumbs=0",
		"beta=1e-3":           "beta=0.001",
		"steps=%2B200":        "steps=200",
	} {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseScenario(q)
		if err != nil {
			t.Errorf("%s: %v", query, err)
			continue
		}
		if got := s.query().Encode(); !strings.Contains("&"+got+"&", "&"+want+"&") {
			t.Errorf("%s: canonical query %s, want %s in it", query, got, want)
		}
	}
}

// TestServeNumbersStrict: over HTTP, a loose number is a 400 with a
// one-line JSON message naming the parameter.
func TestServeNumbersStrict(t *testing.T) {
	srv, _ := testServer(t, 1, time.Second)
	for _, q := range []string{"w.thumbs=1_0", "w.thumbs=0x1p-2", "beta=0x1p-4", "steps=1_00"} {
		code, m, body := get(t, srv.URL+"/api/scene?"+q)
		param, _, _ := strings.Cut(q, "=")
		msg, _ := m["error"].(string)
		if code != 400 || !strings.HasPrefix(msg, param+": ") || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%s: status %d, %s; want 400 and a one-line JSON message naming %s", q, code, body, param)
		}
		var check map[string]string
		if json.Unmarshal([]byte(body), &check) != nil {
			t.Errorf("%s: not JSON: %s", q, body)
		}
	}
}
