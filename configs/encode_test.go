package configs_test

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/sim"
)

// tomlKeys returns every key path that a TOML text defines, sorted.
func tomlKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var v map[string]any
	md, err := toml.Decode(string(data), &v)
	if err != nil {
		t.Fatalf("toml.Decode: %v", err)
	}
	var ks []string
	for _, k := range md.Keys() {
		ks = append(ks, k.String())
	}
	sort.Strings(ks)
	return ks
}

// roundTrip checks that cfg encodes to a file that loads back to an equal
// config and that encoding is idempotent; it returns the encoding.
func roundTrip(t *testing.T, cfg *sim.Config) []byte {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test bug: config does not validate: %v", err)
	}
	enc := configs.Encode(cfg)
	back, err := configs.Load("encoded.toml", enc, nil)
	if err != nil {
		t.Fatalf("Load(Encode(cfg)): %v\n%s", err, enc)
	}
	diffConfigs(t, back, cfg)
	if again := configs.Encode(back); !bytes.Equal(again, enc) {
		t.Fatalf("Encode is not idempotent:\nfirst:\n%s\nsecond:\n%s", enc, again)
	}
	return enc
}

func TestEncodeRoundTripPresets(t *testing.T) {
	for _, n := range configs.PresetNames() {
		t.Run(n, func(t *testing.T) {
			enc := roundTrip(t, mustPreset(t, n))
			if bytes.Contains(enc, []byte("extends")) {
				t.Errorf("encoding has an extends:\n%s", enc)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		text string
		// lines that the encoding must contain
		lines []string
	}{
		{
			name: "table signal",
			text: "extends = \"incident\"\n" +
				"[signals.judge]\nkind = \"table\"\nweight = 0.5\nnoise_sd = 0.1\nstart_step = 10\nend_step = 20\n" +
				"[signals.judge.table]\nverifiable = [1, 0.0, -1.0, 0.5]\npersonal = [0.1, 0.2, 0.3, 1e-7]\n",
			lines: []string{
				"[signals.judge]", "kind = \"table\"", "noise_sd = 0.1", "end_step = 20",
				"[signals.judge.table]", "personal = [0.1, 0.2, 0.3, 1e-07]", "verifiable = [1.0, 0.0, -1.0, 0.5]",
			},
		},
		{
			name: "floats",
			text: "extends = \"baseline\"\n[train]\nlearning_rate = 0.1\nbeta = 1e-7\n" +
				"[gold]\nhelpfulness = 3.0\nhonesty = 0.30000000000000004\nwellbeing = 1e21\n" +
				"[memory]\nrate = 5e-324\nreinforcement = 123456789.125\n",
			lines: []string{
				"learning_rate = 0.1", "beta = 1e-07", "helpfulness = 3.0", "honesty = 0.30000000000000004",
				"wellbeing = 1e+21", "rate = 5e-324",
			},
		},
		{
			name:  "integral floats stay floats",
			text:  "extends = \"baseline\"\n[gold]\nhelpfulness = 2\nhonesty = 0\nwellbeing = -0.0\n",
			lines: []string{"helpfulness = 2.0", "honesty = 0.0"},
		},
		{
			name: "strings",
			text: "extends = \"baseline\"\nname = \"q\\\"b\\\\s\\tt\\nn\\r\\u0001\\u007f é ✓\"\n" +
				"description = '''\nmulti\nline\n'''\n",
			lines: []string{`name = "q\"b\\s\tt\nn\u000D\u0001\u007F é ✓"`, `description = "multi\nline\n"`},
		},
		{
			name:  "large seed",
			text:  "seed = 9223372036854775807\n",
			lines: []string{"seed = 9223372036854775807"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := roundTrip(t, mustLoad(t, "test.toml", tc.text, nil))
			have := map[string]bool{}
			for _, l := range strings.Split(string(enc), "\n") {
				have[l] = true
			}
			for _, l := range tc.lines {
				if !have[l] {
					t.Errorf("encoding has no line %s\n%s", l, enc)
				}
			}
		})
	}
}

// TestEncodeFloatsExact sets floats directly, including values that no
// decimal literal in a test file would make obvious.
func TestEncodeFloatsExact(t *testing.T) {
	vals := []float64{0.1, 1e-7, 3.0, 1.0 / 3, 2.0 / 3, math.Pi, math.SmallestNonzeroFloat64, 1e300, math.MaxFloat64, 4.35, 0}
	for _, v := range vals {
		cfg := configs.Default()
		cfg.Train.Beta = v
		cfg.Gold.Wellbeing = v
		cfg.Memory.Reinforcement = v
		enc := roundTrip(t, cfg)
		back, _ := configs.Load("encoded.toml", enc, nil)
		if back.Train.Beta != v || back.Gold.Wellbeing != v || back.Memory.Reinforcement != v {
			t.Errorf("%v read back as %v, %v, %v", v, back.Train.Beta, back.Gold.Wellbeing, back.Memory.Reinforcement)
		}
	}
}
