package reward

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSampleMeanMatchesExpected checks, for every kind, that the mean of
// sampled rewards agrees with Expected within 5 standard errors estimated
// from the same sample.
func TestSampleMeanMatchesExpected(t *testing.T) {
	outcomes := []Outcome{
		{Verifiable: true, Correct: 0.7, Sycophantic: 0.2, Endorse: 0.4, FeedbackRate: 0.05, ThumbsUp: 0.8, Memory: 0.6},
		{Verifiable: false, Correct: 0.1, Sycophantic: 0.9, Endorse: 1, FeedbackRate: 0.3, ThumbsUp: 0.3, Memory: 0.2, Context: 1, Response: 2},
	}
	table := [][]float64{{1, 2, 3}, {-1, 0.5, 4}}
	specs := map[string]Spec{
		"correctness": Default(KindCorrectness),
		"spec":        Default(KindSpec),
		"thumbs":      Default(KindThumbs),
		"memory":      Default(KindMemory),
		"table":       {Kind: KindTable, Weight: 1, NoiseSD: 0.7},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 200_000
	for name, s := range specs {
		sig, err := New(name, s, table, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		for k, o := range outcomes {
			var sum, sq float64
			for i := 0; i < n; i++ {
				v := sig.Sample(&o, rng)
				sum += v
				sq += v * v
			}
			mean := sum / n
			se := math.Sqrt((sq/n - mean*mean) / n)
			want := sig.Expected(&o)
			if math.Abs(mean-want) > 5*se+1e-12 {
				t.Errorf("%s outcome %d: sample mean %.5f, expected %.5f (se %.5f)", name, k, mean, want, se)
			}
		}
	}
}

// TestExpectedClosedForms pins each kind's expectation to its formula.
func TestExpectedClosedForms(t *testing.T) {
	o := Outcome{Verifiable: true, Correct: 0.7, Sycophantic: 0.2, Endorse: 0.4, FeedbackRate: 0.05, ThumbsUp: 0.8, Memory: 0.6}
	cases := []struct {
		spec Spec
		want float64
	}{
		{Spec{Kind: KindCorrectness, Noise: 0.1}, 0.1 + 0.8*0.7},
		{Spec{Kind: KindSpec, Detection: 0.8, FalsePositive: 0.05}, 1 - (0.8*0.2 + 0.05*0.8)},
		{Spec{Kind: KindThumbs, Up: 1, Down: -1, PerFeedback: true}, 0.05 * (0.8 - 0.2) / 0.1},
		{Spec{Kind: KindThumbs, Up: 1, Down: 0}, 0.05 * 0.8},
		{Spec{Kind: KindMemory}, 0.6 * 0.4},
	}
	for _, c := range cases {
		sig, err := New("x", c.spec, nil, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		if got := sig.Expected(&o); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%+v: expected %v, want %v", c.spec, got, c.want)
		}
	}
	unverifiable := o
	unverifiable.Verifiable = false
	sig, _ := New("c", Default(KindCorrectness), nil, 0)
	if got := sig.Expected(&unverifiable); got != 0 {
		t.Errorf("correctness on an unverifiable prompt = %v, want 0", got)
	}
}

// TestDefaultSetsOnlyItsKeys: a kind's default is of that kind, weight 1,
// always active, and sets no field its kind does not accept (a config
// writes only Keys(kind), so such a value could be neither seen nor changed).
func TestDefaultSetsOnlyItsKeys(t *testing.T) {
	typ := reflect.TypeFor[Spec]()
	for _, kind := range Kinds {
		d := Default(kind)
		if d.Kind != kind || d.Weight != 1 || d.StartStep != 0 || d.EndStep != 0 {
			t.Errorf("Default(%q) = %+v, want kind %q, weight 1, always active", kind, d, kind)
		}
		v := reflect.ValueOf(d)
		for i := range typ.NumField() {
			k := strings.Split(typ.Field(i).Tag.Get("toml"), ",")[0]
			if !v.Field(i).IsZero() && !slices.Contains(Keys(kind), k) {
				t.Errorf("Default(%q) sets %s = %v, which a %s signal does not accept (Keys: %v)", kind, k, v.Field(i), kind, Keys(kind))
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New("x", Spec{Kind: "bogus"}, nil, 1); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := New("x", Spec{Kind: KindTable}, nil, 1); err == nil {
		t.Error("table kind without a table accepted")
	}
	if _, err := New("x", Spec{Kind: KindThumbs, PerFeedback: true}, nil, 0); err == nil {
		t.Error("per_feedback with zero feedback rate accepted")
	}
}

// TestEffectiveWeightsDilution: mechanism 1. Renormalised weights shrink
// the primary signal's share when a signal joins; absolute weights do not.
func TestEffectiveWeightsDilution(t *testing.T) {
	specs := []Spec{
		{Weight: 1},                // correctness
		{Weight: 1},                // primary
		{Weight: 2, StartStep: 10}, // joins at step 10
		{Weight: 0.5, StartStep: 10, EndStep: 20},
	}
	w := make([]float64, len(specs))
	cases := []struct {
		mode WeightMode
		step int
		want []float64
	}{
		{WeightsSumToOne, 9, []float64{0.5, 0.5, 0, 0}},
		{WeightsSumToOne, 10, []float64{1 / 4.5, 1 / 4.5, 2 / 4.5, 0.5 / 4.5}},
		{WeightsSumToOne, 20, []float64{0.25, 0.25, 0.5, 0}},
		{WeightsAbsolute, 10, []float64{1, 1, 2, 0.5}},
	}
	for _, c := range cases {
		EffectiveWeights(w, specs, c.step, c.mode)
		for i := range w {
			if math.Abs(w[i]-c.want[i]) > 1e-15 {
				t.Errorf("%s step %d: weights %v, want %v", c.mode, c.step, w, c.want)
				break
			}
		}
	}
}

// TestAdvantages checks each aggregation against a direct computation, and
// that the per-signal parts sum to the advantage the mode defines.
func TestAdvantages(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const S, G = 3, 8
	r := make([][]float64, S)
	dst := make([][]float64, S)
	for i := range r {
		r[i] = make([]float64, G)
		dst[i] = make([]float64, G)
		for n := range r[i] {
			r[i][n] = rng.NormFloat64() * float64(i+1)
		}
	}
	p := make([]float64, G)
	sum := 0.0
	for n := range p {
		p[n] = rng.Float64()
		sum += p[n]
	}
	for n := range p {
		p[n] /= sum
	}
	w := []float64{0.5, 0.3, 0.2}
	mean := func(x []float64) float64 { return wmean(x, p) }
	sd := func(x []float64) float64 { return wsd(x, p, mean(x)) }

	total := make([]float64, G)
	for n := range total {
		for i := range w {
			total[n] += w[i] * r[i][n]
		}
	}
	for _, agg := range Aggregations {
		Advantages(dst, r, w, p, agg)
		for n := 0; n < G; n++ {
			var got, want float64
			for i := range w {
				got += dst[i][n]
			}
			switch agg {
			case AggNone:
				want = total[n] - mean(total)
			case AggSumThenNormalize:
				want = (total[n] - mean(total)) / sd(total)
			case AggNormalizeThenSum:
				for i := range w {
					want += w[i] * (r[i][n] - mean(r[i])) / sd(r[i])
				}
			}
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("%s sample %d: advantage %v, want %v", agg, n, got, want)
			}
		}
		for i := range w {
			if m := mean(dst[i]); math.Abs(m) > 1e-12 {
				t.Errorf("%s: signal %d part has group mean %v, want 0", agg, i, m)
			}
		}
		if agg == AggNormalizeThenSum {
			for i := range w {
				if s := sd(dst[i]); math.Abs(s-w[i]) > 1e-12 {
					t.Errorf("normalize_then_sum: signal %d part has sd %v, want its weight %v", i, s, w[i])
				}
			}
		}
	}
}

// TestAdvantagesConstantGroup: a group whose rewards do not vary carries
// no advantage under any aggregation (and normalising does not divide by 0).
func TestAdvantagesConstantGroup(t *testing.T) {
	r := [][]float64{{1, 1, 1, 1}, {0, 0, 0, 0}}
	dst := [][]float64{make([]float64, 4), make([]float64, 4)}
	p := []float64{0.25, 0.25, 0.25, 0.25}
	for _, agg := range Aggregations {
		Advantages(dst, r, []float64{1, 1}, p, agg)
		for i := range dst {
			for n, v := range dst[i] {
				if v != 0 || math.IsNaN(v) {
					t.Errorf("%s: dst[%d][%d] = %v, want 0", agg, i, n, v)
				}
			}
		}
	}
}

// TestVarianceDominance: mechanism 3 on one group. Under sum_then_normalize
// a single thumbs-up only lifts a sycophantic sample level with the candid
// ones (equal raw scales), but normalise-then-sum rescales the
// sparse signal to unit variance and makes that sample the group's best.
// (Which way dominance runs depends on the signals' scales and sparsity; the
// simulator reports it through influence, it does not assume it.)
func TestVarianceDominance(t *testing.T) {
	// Samples 0-5 candid (spec 1), 6-7 sycophantic (spec 0); one thumbs-up on 7.
	spec := []float64{1, 1, 1, 1, 1, 1, 0, 0}
	thumbs := []float64{0, 0, 0, 0, 0, 0, 0, 1}
	r := [][]float64{spec, thumbs}
	dst := [][]float64{make([]float64, 8), make([]float64, 8)}
	p := make([]float64, 8)
	for n := range p {
		p[n] = 1.0 / 8
	}
	adv := func(agg Aggregation) []float64 {
		Advantages(dst, r, []float64{1, 1}, p, agg)
		out := make([]float64, 8)
		for n := range out {
			out[n] = dst[0][n] + dst[1][n]
		}
		return out
	}
	stn := adv(AggSumThenNormalize)
	if math.Abs(stn[7]-stn[0]) > 1e-12 {
		t.Errorf("sum_then_normalize: thumbed sycophantic sample %.3f, want level with candid %.3f", stn[7], stn[0])
	}
	nts := adv(AggNormalizeThenSum)
	if !(nts[7] > nts[0]) {
		t.Errorf("normalize_then_sum: thumbed sycophantic sample %.3f not above candid %.3f", nts[7], nts[0])
	}
}
