package sim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rewardmix/rewardmix/sim"
)

// BenchmarkStep is one training step of the incident preset after the
// update (all four signals and memory active), without the evaluation: for
// each algorithm, then for the expected step in the incident world with a
// fifth response style and with three (rows of other widths than four).
func BenchmarkStep(b *testing.B) {
	type bench struct {
		name string
		cfg  *sim.Config
	}
	var cases []bench
	for _, alg := range sim.Algorithms {
		cfg := preset(b, "incident")
		cfg.Train.Algorithm = alg
		cases = append(cases, bench{string(alg), cfg})
	}
	cases = append(cases, bench{"expected_5_responses", withResponses(b, 5)}, bench{"expected_3_responses", withResponses(b, 3)})
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			tr, err := sim.NewTrainerForTest(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			row := make([]float64, tr.NumMetrics())
			t := bc.cfg.Train.UpdateStep
			tr.StepForTest(t, row) // the deployment at the update: memory and the reward model
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.StepForTest(t, row)
			}
		})
	}
}

// BenchmarkEvaluate is the exact evaluation of every metric over the whole
// population at one step, with memory active.
func BenchmarkEvaluate(b *testing.B) {
	cfg := preset(b, "incident")
	tr, err := sim.NewTrainerForTest(cfg)
	if err != nil {
		b.Fatal(err)
	}
	row := make([]float64, tr.NumMetrics())
	t := cfg.Train.UpdateStep
	for i := 0; i < 50; i++ {
		tr.StepForTest(t+i, row) // give users some memory
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.EvaluateForTest(row, t+50)
	}
}

// BenchmarkIncidentRun is a whole `rewardmix run incident` simulation
// (300 steps, evaluation at every step), without file output.
func BenchmarkIncidentRun(b *testing.B) {
	cfg := preset(b, "incident")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := sim.Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweep runs 20 incident runs (four thumbs weights x five seeds)
// through RunAll with 1 and 2 workers; the ratio of the two is the
// sweep's parallel scaling.
func BenchmarkSweep(b *testing.B) {
	base := preset(b, "incident")
	configs := make([]*sim.Config, 0, 20)
	for _, w := range []float64{0.5, 1, 2, 4} {
		for seed := uint64(1); seed <= 5; seed++ {
			c := base.Clone()
			th := c.Signals["thumbs"]
			th.Weight = w
			c.Signals["thumbs"] = th
			c.Seed = seed
			configs = append(configs, c)
		}
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				err := sim.RunAll(context.Background(), len(configs), workers,
					func(k int) (*sim.Config, error) { return configs[k], nil },
					func(int, *sim.Result, error) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(configs)*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}
