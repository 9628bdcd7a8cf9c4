package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium returns the path of an installed Chromium, or skips the test
// when there is none, except in CI (CI set), where .ci/run installs it
// and its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: CI must install it (.ci/run does: apt-get install chromium)")
	}
	t.Skip("no chromium installed: this test drives the workshop page in a real browser (apt-get install chromium)")
	return ""
}

// browser starts a headless Chromium and returns a context for driving it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// startServe runs `rewardmix serve` on a free loopback port and returns its
// URL, read from what it prints.
func startServe(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runServe(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v", err)
	}
	go io.Copy(io.Discard, pr)
	u := regexp.MustCompile(`http://[^ ]+/`).FindString(line)
	if u == "" {
		t.Fatalf("no URL in %q", line)
	}
	return u
}

// waitVersion waits until the page has drawn at least n scenes.
func waitVersion(n int) chromedp.Action[bool] {
	return chromedp.Poll[bool](fmt.Sprintf(`Number(document.body.dataset.version) >= %d`, n), chromedp.WithPollingInterval(5*time.Millisecond))
}

// waitNext runs act and waits until the page has drawn one more scene.
func waitNext(ctx context.Context, act chromedp.Action[chromedp.Void]) error {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.body.dataset.version)`))
	if err == nil {
		err = chromedp.Do(ctx, act)
	}
	if err == nil {
		_, err = chromedp.Run(ctx, waitVersion(v+1))
	}
	return err
}

// text reads an element's text, failing the test if it cannot.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return s
}

func innerHTML(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.InnerHTML(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// TestWorkshopInBrowser loads the page in Chromium, moves the thumbs
// slider with the keyboard 20 times (each a new simulation), checks that
// the sycophancy figure and the headline numbers changed, logs the median
// time from a change to its figures drawn, and steps through story mode
// to the end.
func TestWorkshopInBrowser(t *testing.T) {
	ctx := browser(t)
	url := startServe(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, waitVersion(1)); err != nil {
		t.Fatal(err)
	}
	fig0, syc0, seg0 := innerHTML(t, ctx, "#fig-segments"), text(t, ctx, "#h-syc .big"), text(t, ctx, "#h-seg .big")
	if !strings.HasPrefix(fig0, "<svg") || syc0 == "" {
		t.Fatalf("first scene: figure %.40q, headline %q", fig0, syc0)
	}

	// Twenty presses of the right arrow on the thumbs slider: 2.00 -> 3.00
	// in steps of 0.05, each a scenario not seen before.
	const changes = 20
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.ID("w-thumbs"))); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < changes; i++ {
		if err := waitNext(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
			t.Fatalf("change %d: %v", i+1, err)
		}
	}
	fig1, syc1, seg1 := innerHTML(t, ctx, "#fig-segments"), text(t, ctx, "#h-syc .big"), text(t, ctx, "#h-seg .big")
	thumbs, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("w-thumbs")))
	if err != nil {
		t.Fatal(err)
	}
	lat, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`window.rmLatencies`))
	if err != nil {
		t.Fatal(err)
	}
	if thumbs != "3" {
		t.Errorf("thumbs slider at %q after %d presses, want 3", thumbs, changes)
	}
	if fig1 == fig0 {
		t.Error("the segments (sycophancy) figure did not change when the thumbs weight moved")
	}
	if syc1 == syc0 && seg1 == seg0 {
		t.Errorf("the sycophancy headline did not change: %q, %q", syc1, seg1)
	}
	if len(lat) < changes {
		t.Fatalf("%d latencies recorded for %d changes", len(lat), changes)
	}
	lat = lat[len(lat)-changes:]
	sort.Float64s(lat)
	t.Logf("slider change to figures drawn (incident, %d changes, each a new run): median %.0f ms, min %.0f, max %.0f%s",
		changes, (lat[changes/2-1]+lat[changes/2])/2, lat[0], lat[changes-1], raceNote)

	// Story mode, from the first step to the last, as /api/story lists them.
	var story []struct{ Title string }
	resp, err := http.Get(url + "api/story")
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&story)
		resp.Body.Close()
	}
	if err != nil || len(story) < 2 {
		t.Fatalf("/api/story: %v (%d steps)", err, len(story))
	}
	if err := waitNext(ctx, chromedp.Click(chromedp.ID("mode-story"))); err != nil {
		t.Fatal(err)
	}
	for i := range story {
		if i > 0 {
			if err := waitNext(ctx, chromedp.Click(chromedp.ID("story-next"))); err != nil {
				t.Fatalf("story step %d: %v", i+1, err)
			}
		}
		title, pos, txt := text(t, ctx, "#story-title"), text(t, ctx, "#story-pos"), text(t, ctx, "#story-text")
		if title != story[i].Title || pos != fmt.Sprintf("Step %d of %d", i+1, len(story)) || len(txt) < 40 {
			t.Errorf("story step %d: title %q, position %q, text %q", i+1, title, pos, txt)
		}
	}
	last, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("story-next").disabled`))
	if err != nil {
		t.Fatal(err)
	}
	if !last {
		t.Error("Next is still enabled at the last story step")
	}
}

// TestReportInBrowser renders `report incident` in Chromium and prints it
// to PDF: every figure is laid out at a readable width, and the print has
// several pages.
func TestReportInBrowser(t *testing.T) {
	ctx := browser(t)
	path := filepath.Join(t.TempDir(), "incident.html")
	mustRun(t, "report", "incident", "-o", path)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatal(err)
	}
	svgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("figure svg")].filter(s => s.getBoundingClientRect().width > 300).length`))
	if err != nil {
		t.Fatal(err)
	}
	if svgs != 4 {
		t.Errorf("%d figures laid out at a readable width, want 4", svgs)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || pages < 3 {
		t.Errorf("print to PDF: %d bytes, %d pages; want a PDF of at least 3 pages", len(pdf), pages)
	}
}
