package reward

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSampleMeanMatchesExpected checks, for every kind, that the mean and
// the variance of sampled rewards agree with Expected and Variance within 5
// standard errors estimated from the same sample.
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
			xs := make([]float64, n)
			var sum float64
			for i := range xs {
				xs[i] = sig.Sample(&o, rng)
				sum += xs[i]
			}
			mean := sum / n
			var m2, m4 float64
			for _, x := range xs {
				d := (x - mean) * (x - mean)
				m2 += d / n
				m4 += d * d / n
			}
			se := math.Sqrt(m2 / n)
			want := sig.Expected(&o)
			if math.Abs(mean-want) > 5*se+1e-12 {
				t.Errorf("%s outcome %d: sample mean %.5f, expected %.5f (se %.5f)", name, k, mean, want, se)
			}
			// The sample variance against Variance, within 5 standard
			// errors of the variance estimate, sqrt((m4 - m2^2) / n).
			seVar := math.Sqrt(max(m4-m2*m2, 0) / n)
			if v := sig.Variance(&o); math.Abs(m2-v) > 5*seVar+1e-12 {
				t.Errorf("%s outcome %d: sample variance %.5f, Variance %.5f (se %.5f)", name, k, m2, v, seVar)
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
