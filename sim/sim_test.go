package sim_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/policy"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/internal/vmath"
)

func preset(t testing.TB, name string) *sim.Config {
	t.Helper()
	cfg, err := configs.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func run(t testing.TB, cfg *sim.Config) *sim.Result {
	t.Helper()
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func final(res *sim.Result, m string) float64 { return res.Value(len(res.Values)-1, m) }

// tinyWorld is a configuration small enough to converge tightly: nc context
// types, na responses, one segment, no memory, tabular policy, exact
// expectation over responses, plain gradient ascent.
func tinyWorld(nc, na int, beta float64) *sim.Config {
	names := []string{"a", "b", "c", "d", "e"}
	cfg := &sim.Config{
		Name: "tiny", Seed: 1, Primary: "s0",
		Train: sim.Train{Algorithm: "expected", Steps: 3000, UpdateStep: 1, BatchSize: 64, GroupSize: 8,
			LearningRate: 4 / beta, Optimizer: "sgd", Beta: beta, Weights: reward.WeightsAbsolute, Aggregation: reward.AggNone, ScaleRewards: reward.ScaleGroup},
		Policy:     sim.Policy{Features: "tabular"},
		Memory:     sim.Memory{Rate: 0.1},
		Population: sim.Population{Users: 10},
		Gold:       sim.Gold{Helpfulness: 1, Honesty: 1, Wellbeing: 1},
		Contexts:   map[string]sim.Context{},
		Segments:   map[string]sim.Segment{"all": {Share: 1, FeedbackRate: 0.1, HarmMultiplier: 1}},
		Responses:  map[string]sim.Response{},
		Signals:    map[string]reward.Spec{},
		Output:     sim.Output{Format: sim.FormatAuto, Every: 1, Metrics: []string{"*"}},
	}
	for k := 0; k < nc; k++ {
		cfg.Contexts["ctx_"+names[k]] = sim.Context{Share: 1 / float64(nc), Wrong: 0.5, CueAccuracy: 0.8}
	}
	for a := 0; a < na; a++ {
		cfg.Responses["resp_"+names[a]] = sim.Response{Prior: -0.4 * float64(a), Agree: float64(a) / float64(na)}
	}
	return cfg
}

// TestClosedFormOptimum: with a tabular policy, `expected` training and no
// normalisation, the policy converges to pi* = pi_ref exp(R/beta)/Z
// (Rafailov et al. 2023, eq. 4), computed here directly from the reward
// tables, for random tables, weights and betas.
func TestClosedFormOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 4))
	for trial, beta := range []float64{0.05, 0.3, 1} {
		const nc, na = 2, 3
		cfg := tinyWorld(nc, na, beta)
		cfg.Seed = uint64(trial + 1)
		ctxs := sim.Names(cfg.Contexts)
		R := make([][]float64, nc) // total reward per context type and response
		for k := range R {
			R[k] = make([]float64, na)
		}
		for i := 0; i < 2; i++ {
			w := 0.2 + rng.Float64()
			table := map[string][]float64{}
			for k, c := range ctxs {
				row := make([]float64, na)
				for a := range row {
					row[a] = beta * 0.7 * rng.NormFloat64()
					R[k][a] += w * row[a]
				}
				table[c] = row
			}
			name := []string{"s0", "s1"}[i]
			cfg.Signals[name] = reward.Spec{Kind: reward.KindTable, Weight: w, Table: table}
		}
		res := run(t, cfg)
		resps := sim.Names(cfg.Responses)
		prior := make([]float64, na)
		for a, r := range resps {
			prior[a] = cfg.Responses[r].Prior
		}
		got := make([]float64, na)
		for k := range ctxs {
			want := make([]float64, na)
			for a := range want {
				want[a] = prior[a] + R[k][a]/beta // log pi_ref + R/beta, up to a constant
			}
			policy.Softmax(want)
			for wrong := 0; wrong < 2; wrong++ {
				res.Policy.Probs(got, policy.Context{Cell: 2*k + wrong})
				for a := range got {
					if d := math.Abs(got[a] - want[a]); d > 1e-6 {
						t.Errorf("beta %g, context %s, cell %d: pi(%s) = %.9f, closed form %.9f (diff %.2g)",
							beta, ctxs[k], 2*k+wrong, resps[a], got[a], want[a], d)
					}
				}
			}
		}
		opt, err := sim.AnalyticOptimum(cfg, cfg.Train.Steps)
		if err != nil {
			t.Fatal(err)
		}
		for c, p := range opt.Probs {
			res.Policy.Probs(got, policy.Context{Cell: c})
			for a := range p {
				if math.Abs(p[a]-got[a]) > 1e-6 {
					t.Errorf("AnalyticOptimum cell %d: %v, trained %v", c, p, got)
					break
				}
			}
		}
	}
}

// TestIncidentEmerges: mechanism 1 end to end. Nothing in the incident
// preset scripts sycophancy; it must come out of the reward arithmetic.
func TestIncidentEmerges(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		inc := preset(t, "incident")
		base := preset(t, "baseline")
		inc.Seed, base.Seed = seed, seed
		ri, rb := run(t, inc), run(t, base)
		s := ri.Summary
		before, after := s.Before["sycophancy_rate"], s.After["sycophancy_rate"]
		if !(after >= 2*before) {
			t.Errorf("seed %d: incident sycophancy %.4f -> %.4f, want at least x2", seed, before, after)
		}
		bb, ba := rb.Summary.Before["sycophancy_rate"], rb.Summary.After["sycophancy_rate"]
		if math.Abs(ba-bb) > 0.02 {
			t.Errorf("seed %d: baseline sycophancy %.4f -> %.4f, want within 0.02", seed, bb, ba)
		}
		if b, u, a := s.Before["influence/spec"], s.AtUpdate["influence/spec"], s.After["influence/spec"]; !(u < b && a < b) {
			t.Errorf("seed %d: influence/spec before %.3f, at update %.3f, after %.3f: want a drop", seed, b, u, a)
		}
		if b, a := s.Before["thumbs_up_rate"], s.After["thumbs_up_rate"]; !(a > b) {
			t.Errorf("seed %d: thumbs-up rate %.4f -> %.4f, want a rise", seed, b, a)
		}
		if b, a := s.Before["eval/offline_correctness"], s.After["eval/offline_correctness"]; math.Abs(a-b) >= 0.02 {
			t.Errorf("seed %d: offline correctness %.4f -> %.4f, want a change under 0.02", seed, b, a)
		}
		if g := s.After["gold_utility"] - s.Before["gold_utility"]; !(g < 0) {
			t.Errorf("seed %d: gold utility change %.4f, want a fall", seed, g)
		}
		// Identical until the update: the presets differ only from update_step on.
		for step := 0; step < inc.Train.UpdateStep; step++ {
			if ri.Value(step, "sycophancy_rate") != rb.Value(step, "sycophancy_rate") {
				t.Fatalf("seed %d: incident and baseline differ at step %d, before the update", seed, step)
			}
		}
	}
}

// TestMonotoneInThumbsWeight: mechanism 2. With absolute weights, final
// sycophancy rises with the weight of the signal that pays for agreement.
func TestMonotoneInThumbsWeight(t *testing.T) {
	prev := -1.0
	for _, w := range []float64{0, 0.25, 0.5, 1, 1.5, 2, 3, 5} {
		cfg := preset(t, "incident")
		cfg.Train.Weights = reward.WeightsAbsolute
		th := cfg.Signals["thumbs"]
		th.Weight = w
		cfg.Signals["thumbs"] = th
		got := final(run(t, cfg), "sycophancy_rate")
		if !(got > prev) {
			t.Errorf("thumbs weight %g: final sycophancy %.4f, not above %.4f at the previous weight", w, got, prev)
		}
		prev = got
	}
}

// TestCriticalRatio: mechanism 2 against its closed form. One context in
// which the user is always wrong, two responses (candid, validating), one
// user segment, a spec signal (weight w_s) and a thumbs signal (weight
// w_t), absolute weights, tabular policy, `expected` training. At the
// optimum pi*(v)/pi*(c) = (pi_ref(v)/pi_ref(c)) exp((R_v - R_c)/beta), so
// sycophancy = pi*(v) crosses 1/2 where R_v - R_c = beta (prior_c - prior_v).
// With E[spec] = 1 - det*syc - fp*(1-syc) and, for thumbs with per_feedback
// (scale 1/rate), E[thumbs] = 2 p_up - 1:
//
//	R_v - R_c = -w_s (det - fp) + 2 w_t (p_v - p_c)
//	w_t*      = (beta (prior_c - prior_v) + w_s (det - fp)) / (2 (p_v - p_c))
func TestCriticalRatio(t *testing.T) {
	const beta, ws, det, fp = 0.2, 1.0, 0.8, 0.05
	cfg := tinyWorld(1, 0, beta)
	cfg.Contexts = map[string]sim.Context{"opinion": {Share: 1, Wrong: 1, CueAccuracy: 0.75}}
	cfg.Responses = map[string]sim.Response{
		"candid":     {Prior: 0, Candor: 1, Warmth: 0.3},
		"validating": {Prior: -0.5, Agree: 1, Warmth: 0.8},
	}
	seg := sim.Segment{Share: 1, FeedbackRate: 0.05, ThumbsBias: -0.5, ThumbsAgree: 1.8, ThumbsWarmth: 0.5, ThumbsCorrect: 0.8, HarmMultiplier: 1}
	cfg.Segments = map[string]sim.Segment{"users": seg}
	cfg.Train.Steps, cfg.Train.LearningRate = 1500, 2/beta
	cfg.Signals = map[string]reward.Spec{
		"spec":   {Kind: reward.KindSpec, Weight: ws, Detection: det, FalsePositive: fp},
		"thumbs": {Kind: reward.KindThumbs, Weight: 1, Source: reward.SourceDirect, Up: 1, Down: -1, PerFeedback: true},
	}
	cfg.Primary = "spec"
	pc := reward.Sigmoid(seg.ThumbsBias + seg.ThumbsWarmth*0.3 + seg.ThumbsCorrect*1)
	pv := reward.Sigmoid(seg.ThumbsBias + seg.ThumbsAgree*1 + seg.ThumbsWarmth*0.8)
	want := (beta*(0-(-0.5)) + ws*(det-fp)) / (2 * (pv - pc))

	if got, err := sim.CriticalWeight(cfg, "thumbs", 0, 0.5); err != nil || math.Abs(got-want) > 1e-6*want {
		t.Fatalf("CriticalWeight = %v (%v), closed form %v", got, err, want)
	}
	// Simulate a grid around the prediction and interpolate the crossing.
	var ws_, sy []float64
	for f := 0.5; f <= 1.51; f += 0.1 {
		c := *cfg
		c.Signals = map[string]reward.Spec{"spec": cfg.Signals["spec"], "thumbs": cfg.Signals["thumbs"]}
		th := c.Signals["thumbs"]
		th.Weight = f * want
		c.Signals["thumbs"] = th
		ws_ = append(ws_, th.Weight)
		sy = append(sy, final(run(t, &c), "sycophancy_rate"))
	}
	crossing := math.NaN()
	for i := 1; i < len(sy); i++ {
		if sy[i-1] < 0.5 && sy[i] >= 0.5 {
			crossing = ws_[i-1] + (0.5-sy[i-1])/(sy[i]-sy[i-1])*(ws_[i]-ws_[i-1])
		}
	}
	if math.IsNaN(crossing) || math.Abs(crossing-want) > 0.1*want {
		t.Fatalf("simulated crossing at thumbs weight %.4f, analytic %.4f (sycophancy %v)", crossing, want, sy)
	}
	t.Logf("critical thumbs weight: simulated %.4f, analytic %.4f (%.2f%%)", crossing, want, 100*(crossing-want)/want)
}

// TestMemoryTargetsVulnerable: mechanism 4, as far as it emerges. With
// memory the policy validates the users whose memory marks them (the
// vulnerable disclose their stance, and the reward model learns from
// memory that high stances thumb agreement up); without memory the policy
// cannot tell users apart and the gap closes. With equal disclosure no gap
// emerges: the targeting rests on what memory holds, not on the loop alone
// (README reports it).
func TestMemoryTargetsVulnerable(t *testing.T) {
	on := run(t, preset(t, "incident"))
	gapOn := final(on, "sycophancy_rate/vulnerable") - final(on, "sycophancy_rate")
	if gapOn < 0.03 {
		t.Errorf("memory on: vulnerable %.4f vs all users %.4f, want a gap of at least 0.03",
			final(on, "sycophancy_rate/vulnerable"), final(on, "sycophancy_rate"))
	}
	equal := preset(t, "incident")
	v := equal.Segments["vulnerable"]
	v.Disclosure = equal.Segments["typical"].Disclosure
	equal.Segments["vulnerable"] = v
	eq := run(t, equal)
	if gap := final(eq, "sycophancy_rate/vulnerable") - final(eq, "sycophancy_rate"); math.Abs(gap) > 0.01 {
		t.Errorf("equal disclosure: a gap of %.4f emerged; README says none does", gap)
	}
	cfg := preset(t, "incident")
	cfg.Memory.Enabled = false
	delete(cfg.Signals, "memory")
	off := run(t, cfg)
	gapOff := final(off, "sycophancy_rate/vulnerable") - final(off, "sycophancy_rate")
	if math.Abs(gapOff) > 1e-9 {
		t.Errorf("memory off: gap %.3g between vulnerable and all users, want none", gapOff)
	}
	t.Logf("vulnerable minus population sycophancy: memory on %.4f, off %.2g", gapOn, gapOff)
}

// TestInfluenceInvariants: influences are shares (non-negative, summing to
// one with the KL term), alignments are cosines, inactive signals have none.
func TestInfluenceInvariants(t *testing.T) {
	for _, alg := range sim.Algorithms {
		cfg := preset(t, "incident")
		cfg.Train.Algorithm = alg
		cfg.Train.Aggregation = reward.AggSumThenNormalize
		res := run(t, cfg)
		for step := range res.Values {
			sum := res.Value(step, "influence/kl")
			for _, s := range sim.Names(cfg.Signals) {
				in := res.Value(step, "influence/"+s)
				al := res.Value(step, "alignment/"+s)
				if in < 0 || in > 1 || al < -1-1e-12 || al > 1+1e-12 {
					t.Fatalf("%s step %d %s: influence %v alignment %v", alg, step, s, in, al)
				}
				if !cfg.Signals[s].Active(step) && in != 0 {
					t.Fatalf("%s step %d: inactive %s has influence %v", alg, step, s, in)
				}
				sum += in
			}
			if math.Abs(sum-1) > 1e-12 && sum != 0 {
				t.Fatalf("%s step %d: influences sum to %v", alg, step, sum)
			}
		}
	}
}

// TestDeterminism: the same config gives bit-identical results, for every
// algorithm; a different seed gives different ones where sampling matters.
func TestDeterminism(t *testing.T) {
	for _, alg := range sim.Algorithms {
		cfg := preset(t, "incident")
		cfg.Train.Algorithm = alg
		cfg.Train.Steps, cfg.Train.UpdateStep = 120, 60
		setStart(cfg, 60)
		a, b := run(t, cfg), run(t, cfg)
		if !reflect.DeepEqual(a.Values, b.Values) {
			t.Errorf("%s: two runs of one config differ", alg)
		}
		cfg.Seed++
		if c := run(t, cfg); reflect.DeepEqual(a.Values, c.Values) {
			t.Errorf("%s: seeds %d and %d give identical runs", alg, cfg.Seed-1, cfg.Seed)
		}
	}
}

func setStart(cfg *sim.Config, step int) {
	for n, s := range cfg.Signals {
		if s.StartStep > 0 {
			s.StartStep = step
			cfg.Signals[n] = s
		}
	}
	cfg.Memory.StartStep = step
}

// TestGoldNotTrained: the gold utility's weights change what is measured,
// never what is learnt.
func TestGoldNotTrained(t *testing.T) {
	a := run(t, preset(t, "incident"))
	cfg := preset(t, "incident")
	cfg.Gold = sim.Gold{Helpfulness: 7, Honesty: 0, Wellbeing: 30}
	b := run(t, cfg)
	if !reflect.DeepEqual(a.Series("sycophancy_rate"), b.Series("sycophancy_rate")) {
		t.Error("changing gold weights changed training")
	}
	if reflect.DeepEqual(a.Series("gold_utility"), b.Series("gold_utility")) {
		t.Error("changing gold weights did not change gold utility")
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	cfg := preset(t, "incident")
	cfg.Train.Beta = -1
	_, err := sim.Run(context.Background(), cfg)
	var fe *sim.FieldError
	if !errors.As(err, &fe) || fe.Key != "train.beta" {
		t.Fatalf("Run with beta -1: %v, want a FieldError for train.beta", err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Run(ctx, preset(t, "incident")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
}

func TestDiverges(t *testing.T) {
	cfg := tinyWorld(1, 2, 0.1)
	table := map[string][]float64{"ctx_a": {1e300, -1e300}}
	cfg.Signals["s0"] = reward.Spec{Kind: reward.KindTable, Weight: 1, Table: table}
	cfg.Train.LearningRate = sim.MaxLearningRate
	_, err := sim.Run(context.Background(), cfg)
	var de *sim.DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("huge learning rate: %v, want a DivergedError", err)
	}
}

// TestClosedFormIncidentWorld: the whole reward pipeline against the closed
// form. The incident world (three segments with their own feedback
// behaviour; correctness, spec and thumbs signals renormalised) without
// memory, every signal on from step 0, trained on the full batch: the
// policy must reach pi_ref exp(R/beta)/Z, R the population average of the
// effective reward, in every cell.
func TestClosedFormIncidentWorld(t *testing.T) {
	for _, weights := range reward.WeightModes {
		cfg := preset(t, "incident")
		cfg.Memory.Enabled = false
		delete(cfg.Signals, "memory")
		for n, s := range cfg.Signals {
			s.StartStep = 0
			if s.Kind == reward.KindThumbs {
				s.Source = reward.SourceDirect // the users' own expected thumbs, which the closed form takes
			}
			cfg.Signals[n] = s
		}
		cfg.Train.Weights = weights
		cfg.Train.BatchSize = 0
		cfg.Population.Users = 100 // two vulnerable users
		cfg.Train.Beta = 0.5       // keeps every response's probability well above 0, so plain gradient ascent converges fast
		cfg.Train.Optimizer, cfg.Train.LearningRate = "sgd", 20
		cfg.Train.Steps, cfg.Train.UpdateStep = 3000, 1
		res := run(t, cfg)
		opt, err := sim.AnalyticOptimum(cfg, cfg.Train.Steps)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, len(cfg.Responses))
		worst := 0.0
		for c, want := range opt.Probs {
			res.Policy.Probs(got, policy.Context{Cell: c})
			for a := range want {
				worst = math.Max(worst, math.Abs(got[a]-want[a]))
			}
		}
		if worst > 1e-6 {
			t.Errorf("%s weights: trained policy is %.2g from the closed form", weights, worst)
		}
		if d := math.Abs(final(res, "sycophancy_rate") - opt.Sycophancy); d > 1e-6 {
			t.Errorf("%s weights: sycophancy %.6f, closed form %.6f", weights, final(res, "sycophancy_rate"), opt.Sycophancy)
		}
	}
}

// TestTrainerGradientFD: the gradient the expected trainer assembles from
// per-signal advantages and the KL term (with its 1/B and -beta) is the
// gradient of the batch objective, checked by central differences at a
// mid-incident state where memory features are active.
func TestTrainerGradientFD(t *testing.T) {
	for _, feat := range sim.FeatureModes {
		cfg := preset(t, "incident")
		cfg.Policy.Features = feat
		tr, err := sim.NewTrainerForTest(cfg)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, tr.NumMetrics())
		for s := 0; s < 200; s++ {
			tr.StepForTest(s, row)
		}
		got := tr.GradientForTest(200)
		theta := append([]float64(nil), tr.Theta()...)
		want := fd.Gradient(nil, func(th []float64) float64 { return tr.BatchObjectiveForTest(th, 200) },
			theta, &fd.Settings{Formula: fd.Central, Step: 1e-6})
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-7*math.Max(1, math.Abs(want[j])) {
				t.Fatalf("%s: gradient component %d = %.10g, finite difference %.10g", feat, j, got[j], want[j])
			}
		}
	}
}

// TestOutcome: the per-run release outcome that sweeps tabulate.
func TestOutcome(t *testing.T) {
	get := func(res *sim.Result, name string) float64 {
		t.Helper()
		names, values := res.Outcome()
		for k, n := range names {
			if n == name {
				return values[k]
			}
		}
		t.Fatalf("no outcome %s in %v", name, names)
		return 0
	}
	inc := run(t, preset(t, "incident"))
	if get(inc, "review/launched") != 1 || !(get(inc, "deployment/sycophantic_served/vulnerable") > 0) {
		t.Errorf("incident: launched %v, sycophantic responses to vulnerable users %v; want a launch that served some",
			get(inc, "review/launched"), get(inc, "deployment/sycophantic_served/vulnerable"))
	}
	gated := run(t, preset(t, "incident-gated"))
	if get(gated, "review/launched") != 0 || get(gated, "deployment/sycophantic_served") != 0 {
		t.Errorf("incident-gated: launched %v, served %v; want a block that served none",
			get(gated, "review/launched"), get(gated, "deployment/sycophantic_served"))
	}
	a, _ := inc.Outcome()
	b, _ := gated.Outcome()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("outcome names differ between a launch and a block:\n%v\n%v", a, b)
	}
}

// TestEvaluateMatchesBruteForce: evaluate's factorised sums over users
// against a softmax per user and cell, after training with memory and with
// logits extreme enough that the factorisation underflows for some users.
func TestEvaluateMatchesBruteForce(t *testing.T) {
	tr, err := sim.NewTrainerForTest(preset(t, "incident"))
	if err != nil {
		t.Fatal(err)
	}
	tr.CheckEvaluateForTest(t)
}

// TestJudgeAllProbs: the release review's softmax over all users at once
// equals its softmax prompt by prompt.
func TestJudgeAllProbs(t *testing.T) {
	run(t, preset(t, "incident")).CheckAllProbsForTest(t)
}

// withResponses returns the incident preset with a fifth response style
// (more responses = 5), or without the hedging one (more = 3).
func withResponses(t testing.TB, more int) *sim.Config {
	t.Helper()
	cfg := preset(t, "incident")
	switch more {
	case 5:
		cfg.Responses["enthusiastic"] = sim.Response{Prior: -0.8, Agree: 0.8, Candor: 0.2, Flatter: 0.6, Warmth: 0.9}
	case 3:
		delete(cfg.Responses, "hedging")
	}
	return cfg
}

// TestExpectedStep: the expected step, written once over batches of rows,
// gives the gradients per signal and KL and the P(sycophantic) that a
// prompt-by-prompt reference assembles from reward.Advantages and
// policy.KLCoef: for three, four and five responses, without memory (before
// it starts, and in baseline) and with it, for a sampled and the full
// batch, with the probabilities computed by the step or reused from the
// evaluation, and under every aggregation.
func TestExpectedStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		responses int
		full      bool
		agg       reward.Aggregation
	}{
		{"incident", 4, false, reward.AggNone},
		{"incident/3 responses", 3, false, reward.AggNone},
		{"incident/5 responses", 5, false, reward.AggNone},
		{"incident/full batch", 4, true, reward.AggNone},
		{"incident/full batch/3 responses", 3, true, reward.AggNone},
		{"incident/full batch/5 responses", 5, true, reward.AggNone},
		{"incident/sum_then_normalize", 4, false, reward.AggSumThenNormalize},
		{"incident/normalize_then_sum/full batch/5 responses", 5, true, reward.AggNormalizeThenSum},
		{"baseline", 0, false, reward.AggNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, evaluated := range []bool{false, true} {
				cfg := withResponses(t, tc.responses)
				if tc.responses == 0 {
					cfg = preset(t, "baseline")
				}
				cfg.Train.Aggregation = tc.agg
				if tc.full {
					cfg.Train.BatchSize = 0
				}
				tr, err := sim.NewTrainerForTest(cfg)
				if err != nil {
					t.Fatal(err)
				}
				// Give the users some memory first.
				row := make([]float64, tr.NumMetrics())
				for k := 150; k < 160; k++ {
					tr.StepForTest(k, row)
				}
				tr.CheckExpectedStepForTest(t, []int{10, cfg.Train.UpdateStep + 5}, evaluated)
			}
		})
	}
}

// TestSameBitsWithoutAssembly: a whole incident run gives the same bits
// on every kernel path this CPU has (AVX-512, AVX2) and on the pure-Go
// paths that other CPUs run, so output files do not depend on the machine.
func TestSameBitsWithoutAssembly(t *testing.T) {
	paths := vmath.Paths()
	if len(paths) == 1 {
		t.Skip("no AVX2 and FMA here: only the Go paths run")
	}
	cfg := preset(t, "incident")
	defer vmath.SetPathForTest(vmath.SetPathForTest("go"))
	pure := run(t, cfg)
	for _, path := range paths[1:] {
		vmath.SetPathForTest(path)
		asm := run(t, cfg)
		for s := range asm.Values {
			for k, v := range asm.Values[s] {
				if w := pure.Values[s][k]; math.Float64bits(v) != math.Float64bits(w) {
					t.Fatalf("step %d %s: %s %v, Go %v", s, asm.Metrics[k], path, v, w)
				}
			}
		}
		if !reflect.DeepEqual(asm.Review, pure.Review) || !reflect.DeepEqual(asm.Deployment, pure.Deployment) {
			t.Errorf("the release review differs between the %s and Go paths", path)
		}
	}
}
