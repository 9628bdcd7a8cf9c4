package workshop

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// A scenario is a preset with the workshop's knobs turned: the signal
// weights, the weighting and aggregation modes, memory, the update step, the
// KL coefficient, and (capped) the run's length, population and seed. It is
// what one request to `serve` asks for, and it names no file.
type scenario struct {
	Preset      string             `json:"preset"`
	Weights     map[string]float64 `json:"weights"` // signal -> weight
	WeightMode  reward.WeightMode  `json:"weight_mode"`
	Aggregation reward.Aggregation `json:"aggregation"`
	Memory      bool               `json:"memory"`
	UpdateStep  int                `json:"update_step"`
	Beta        float64            `json:"beta"`
	Steps       int                `json:"steps"`
	Users       int                `json:"users"`
	Seed        uint64             `json:"seed"`
}

// Limits on what one request may ask for, so that no request can take the
// machine: the largest run allowed costs about 1000 steps x 2000 users,
// under a second.
const (
	maxScenarioWeight = 20.0
	minScenarioBeta   = 0.001
	maxScenarioBeta   = 10.0
	minScenarioSteps  = 10
	maxScenarioSteps  = 1000
	minScenarioUsers  = 50 // every preset's smallest segment (2%) needs one user
	maxScenarioUsers  = 2000
	maxScenarioSeed   = 1<<31 - 1
	maxParamLen       = 64
	maxParams         = 40
)

// scenarioOf returns a preset's own scenario and its config.
func scenarioOf(preset string) (scenario, *sim.Config, error) {
	if !configs.IsPreset(preset) {
		return scenario{}, nil, fmt.Errorf("preset %q: not a preset (presets: %s)", preset, strings.Join(configs.PresetNames(), ", "))
	}
	cfg, err := configs.Preset(preset)
	if err != nil {
		return scenario{}, nil, err
	}
	s := scenario{
		Preset:      preset,
		Weights:     map[string]float64{},
		WeightMode:  cfg.Train.Weights,
		Aggregation: cfg.Train.Aggregation,
		Memory:      cfg.Memory.Enabled,
		UpdateStep:  cfg.Train.UpdateStep,
		Beta:        cfg.Train.Beta,
		Steps:       cfg.Train.Steps,
		Users:       cfg.Population.Users,
		Seed:        cfg.Seed,
	}
	for n, sig := range cfg.Signals {
		s.Weights[n] = sig.Weight
	}
	return s, cfg, nil
}

// badRequest is a request the workshop refuses, with the reason.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, a ...any) error { return &badRequest{fmt.Sprintf(format, a...)} }

// parseScenario reads a scenario from query parameters: preset, w.SIGNAL,
// weights, aggregation, memory, update_step, beta, steps, users and seed.
// Every number must be a plain decimal (see plainDecimal; whole numbers
// without a fraction or exponent) and is range-checked; unknown or
// repeated parameters are refused.
// Parameters left out keep the preset's values.
func parseScenario(q url.Values) (scenario, error) {
	if len(q) > maxParams {
		return scenario{}, badRequestf("too many parameters (%d; at most %d)", len(q), maxParams)
	}
	one := func(k string) (string, bool, error) {
		vs, ok := q[k]
		if !ok {
			return "", false, nil
		}
		if len(vs) != 1 {
			return "", false, badRequestf("%s: given %d times", k, len(vs))
		}
		if len(vs[0]) > maxParamLen {
			return "", false, badRequestf("%s: value longer than %d characters", k, maxParamLen)
		}
		return vs[0], true, nil
	}
	preset, ok, err := one("preset")
	if err != nil {
		return scenario{}, err
	}
	if !ok {
		preset = "incident"
	}
	if !configs.IsPreset(preset) {
		return scenario{}, badRequestf("preset %q: not a preset (presets: %s)", preset, strings.Join(configs.PresetNames(), ", "))
	}
	s, _, err := scenarioOf(preset)
	if err != nil {
		return scenario{}, err
	}
	num := func(k string, lo, hi float64) (float64, bool, error) {
		v, ok, err := one(k)
		if err != nil || !ok {
			return 0, ok, err
		}
		if !plainDecimal(v, true) {
			return 0, false, badRequestf("%s: %q is not a plain decimal number (digits, optionally a fraction and an exponent, e.g. 1.5 or 2e-3)", k, v)
		}
		x, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(x) || x < lo || x > hi {
			return 0, false, badRequestf("%s: %q is not a number in [%g, %g]", k, v, lo, hi)
		}
		return x + 0, true, nil // + 0 turns -0 into 0
	}
	integer := func(k string, lo, hi int) (int, bool, error) {
		v, ok, err := one(k)
		if err != nil || !ok {
			return 0, ok, err
		}
		x, perr := strconv.Atoi(v)
		if !plainDecimal(v, false) || perr != nil || x < lo || x > hi {
			return 0, false, badRequestf("%s: %q is not a whole number in [%d, %d]", k, v, lo, hi)
		}
		return x, true, nil
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		var err error
		switch k {
		case "preset":
		case "weights":
			v, _, e := one(k)
			if err = e; err == nil {
				s.WeightMode, err = choice(k, v, reward.WeightModes)
			}
		case "aggregation":
			v, _, e := one(k)
			if err = e; err == nil {
				s.Aggregation, err = choice(k, v, reward.Aggregations)
			}
		case "memory":
			v, _, e := one(k)
			switch err = e; v {
			case "on", "true", "1":
				s.Memory = true
			case "off", "false", "0":
				s.Memory = false
			default:
				if err == nil {
					err = badRequestf("memory: %q is not on or off", v)
				}
			}
		case "beta":
			s.Beta, _, err = num(k, minScenarioBeta, maxScenarioBeta)
		case "update_step":
			s.UpdateStep, _, err = integer(k, 1, maxScenarioSteps-1)
		case "steps":
			s.Steps, _, err = integer(k, minScenarioSteps, maxScenarioSteps)
		case "users":
			s.Users, _, err = integer(k, minScenarioUsers, maxScenarioUsers)
		case "seed":
			var x int
			x, _, err = integer(k, 0, maxScenarioSeed)
			s.Seed = uint64(x)
		default:
			name, isWeight := strings.CutPrefix(k, "w.")
			if _, known := s.Weights[name]; !isWeight || !known {
				return scenario{}, badRequestf("unknown parameter %q (%s)", k, scenarioParamHelp(s))
			}
			s.Weights[name], _, err = num(k, 0, maxScenarioWeight)
		}
		if err != nil {
			return scenario{}, err
		}
	}
	if s.Steps < minScenarioSteps || s.Steps > maxScenarioSteps {
		return scenario{}, badRequestf("steps: %d is outside [%d, %d]", s.Steps, minScenarioSteps, maxScenarioSteps)
	}
	if s.Users < minScenarioUsers || s.Users > maxScenarioUsers {
		return scenario{}, badRequestf("users: %d is outside [%d, %d]", s.Users, minScenarioUsers, maxScenarioUsers)
	}
	if s.UpdateStep < 1 || s.UpdateStep >= s.Steps {
		return scenario{}, badRequestf("update_step: %d must be at least 1 and below steps (%d)", s.UpdateStep, s.Steps)
	}
	return s, nil
}

// plainDecimal reports whether s is a plain decimal number: an optional
// sign and digits, then (when fraction is true) optionally a point and
// digits, and optionally e or E, a sign and digits. strconv alone also
// takes "1_0" (10), hexadecimal ("0x1p-2"), "Inf" and "NaN".
func plainDecimal(s string, fraction bool) bool {
	digits := func() bool {
		n := len(s) - len(strings.TrimLeft(s, "0123456789"))
		s = s[n:]
		return n > 0
	}
	sign := func() {
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
	}
	sign()
	if !digits() {
		return false
	}
	if !fraction {
		return s == ""
	}
	if s != "" && s[0] == '.' {
		s = s[1:]
		if !digits() {
			return false
		}
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		sign()
		if !digits() {
			return false
		}
	}
	return s == ""
}

// choice returns v as one of the allowed values of parameter k, or a bad
// request naming them.
func choice[T ~string](k, v string, allowed []T) (T, error) {
	if slices.Contains(allowed, T(v)) {
		return T(v), nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", badRequestf("%s: %q is not one of %s", k, v, strings.Join(names, ", "))
}

func scenarioParamHelp(s scenario) string {
	var ws []string
	for _, n := range sim.Names(s.Weights) {
		ws = append(ws, "w."+n)
	}
	return "known: preset, " + strings.Join(ws, ", ") + ", weights, aggregation, memory, update_step, beta, steps, users, seed"
}

// query returns the scenario as canonical query parameters: every knob,
// keys sorted, numbers in their shortest exact form. Equal scenarios give
// equal queries, so it is also the cache key.
func (s scenario) query() url.Values {
	q := url.Values{}
	q.Set("preset", s.Preset)
	for n, w := range s.Weights {
		q.Set("w."+n, strconv.FormatFloat(w, 'g', -1, 64))
	}
	q.Set("weights", string(s.WeightMode))
	q.Set("aggregation", string(s.Aggregation))
	q.Set("memory", map[bool]string{true: "on", false: "off"}[s.Memory])
	q.Set("update_step", strconv.Itoa(s.UpdateStep))
	q.Set("beta", strconv.FormatFloat(s.Beta, 'g', -1, 64))
	q.Set("steps", strconv.Itoa(s.Steps))
	q.Set("users", strconv.Itoa(s.Users))
	q.Set("seed", strconv.FormatUint(s.Seed, 10))
	return q
}

// config applies the scenario to its preset. Moving the update step moves
// every signal start or end and the memory start that sat at the old one;
// memory off removes the memory store and every memory signal (a memory
// reward has nothing to read without it).
func (s scenario) config() (*sim.Config, error) {
	_, cfg, err := scenarioOf(s.Preset)
	if err != nil {
		return nil, err
	}
	for n, w := range s.Weights {
		sig, ok := cfg.Signals[n]
		if !ok {
			return nil, badRequestf("w.%s: preset %s has no signal %q", n, s.Preset, n)
		}
		sig.Weight = w
		cfg.Signals[n] = sig
	}
	old := cfg.Train.UpdateStep
	for n, sig := range cfg.Signals {
		if sig.StartStep == old {
			sig.StartStep = s.UpdateStep
		}
		if sig.EndStep == old {
			sig.EndStep = s.UpdateStep
		}
		cfg.Signals[n] = sig
	}
	if cfg.Memory.StartStep == old {
		cfg.Memory.StartStep = s.UpdateStep
	}
	if !s.Memory {
		cfg.Memory.Enabled = false
		for n, sig := range cfg.Signals {
			if sig.Kind == reward.KindMemory {
				delete(cfg.Signals, n)
			}
		}
	} else if !cfg.Memory.Enabled {
		cfg.Memory.Enabled = true
		cfg.Memory.StartStep = s.UpdateStep
	}
	cfg.Train.UpdateStep = s.UpdateStep
	cfg.Train.Weights = s.WeightMode
	cfg.Train.Aggregation = s.Aggregation
	cfg.Train.Beta = s.Beta
	cfg.Train.Steps = s.Steps
	cfg.Population.Users = s.Users
	cfg.Seed = s.Seed
	if err := cfg.Validate(); err != nil {
		return nil, badRequestf("%v", err)
	}
	return cfg, nil
}
