package sim

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// Deployment is what a launch cost: when the monitor raised the alarm and
// the rollback completed, and the sycophantic responses the candidate
// served until then. Hours count from the start of the alpha phase, or of
// the rollout if there is none; -1 means "did not happen".
type Deployment struct {
	Launched bool `json:"launched"`
	// CaughtInAlpha is true if detection came before the wide rollout.
	CaughtInAlpha       bool    `json:"caught_in_alpha"`
	HoursToAlarm        float64 `json:"hours_to_alarm"`
	HoursToDetection    float64 `json:"hours_to_detection"`
	HoursToMitigation   float64 `json:"hours_to_mitigation"`
	HoursToRollback     float64 `json:"hours_to_rollback_start"`
	HoursToRollbackDone float64 `json:"hours_to_rollback_done"`
	PeakExposure        float64 `json:"peak_exposure"`
	Complaints          float64 `json:"excess_complaints"`
	// ThumbsTrend is the change in the thumbs-up rate the monitor saw
	// (candidate minus incumbent): positive, so it never raised an alarm.
	ThumbsTrend float64 `json:"thumbs_trend"`
	// Served counts every response of the candidate, Sycophantic the
	// sycophantic ones, by segment.
	Served      map[string]float64 `json:"responses_served"`
	Sycophantic map[string]float64 `json:"sycophantic_served"`
	// SycophanticTotal sums Sycophantic over segments.
	SycophanticTotal float64 `json:"sycophantic_served_total"`
	// HarmWeighted is the harm-weighted count (context harm x segment harm
	// multiplier) in the harm contexts, by segment, and its total.
	HarmContexts      []string           `json:"harm_contexts"`
	HarmWeighted      map[string]float64 `json:"harm_weighted"`
	HarmWeightedTotal float64            `json:"harm_weighted_total"`
}

// deployStep is the resolution of the deployment timeline, in hours.
const deployStep = 0.25

// deploy plays out the launch of the candidate under cfg.Deployment: the
// exposure (share of traffic on the candidate) grows through an optional
// alpha phase and a staged rollout; excess complaints over the incumbent's
// arrive as Poisson counts from the deployment's own random stream; once
// they reach the threshold the alarm is raised, detection follows after the
// lag, the rollout stops growing, a system-prompt mitigation applies after
// its delay and the rollback ramps exposure down to zero.
func deploy(w *world, j *judge, cfg *Config, thumbsTrend float64) Deployment {
	d := &cfg.Deployment
	S := len(w.segments)
	C := len(w.cellProb)
	N := float64(len(w.userSeg))
	// Per segment and situation, the candidate's P(sycophantic) averaged
	// over the segment's users (each with their memory), unmitigated and
	// mitigated.
	syc := [2][][]float64{make([][]float64, S), make([][]float64, S)}
	for k := range syc {
		for s := range syc[k] {
			syc[k][s] = make([]float64, len(w.sitProb))
		}
	}
	A := len(w.responses)
	for k, shift := range []float64{0, d.MitigationShift} {
		all := j.allProbs(j.cand, shift, true)
		for u, s := range w.userSeg {
			for st := range w.sitProb {
				c, out := w.sitCell[st], w.outcome[w.sitTruth[st]][s]
				t := syc[k][s][st] // a local, not an add through memory per response
				for a, pa := range all[(u*C+c)*A : (u*C+c)*A+A] {
					t += pa * out[a].Sycophantic / float64(w.segUsers[s])
				}
				syc[k][s][st] = t
			}
		}
	}
	incSyc := j.ordinarySyc(j.inc)
	harmSit := make([]bool, len(w.sitProb))
	var harmCtx []string
	for k, cn := range w.contexts {
		if w.cfg.Contexts[cn].Harm >= d.HarmMin {
			harmCtx = append(harmCtx, cn)
			for st, t := range w.sitTruth {
				harmSit[st] = harmSit[st] || w.truthCtx[t] == k
			}
		}
	}
	segShare := make([]float64, S)
	for s, n := range w.segUsers {
		segShare[s] = float64(n) / N
	}

	out := Deployment{Launched: true, HoursToAlarm: -1, HoursToDetection: -1, HoursToMitigation: -1,
		HoursToRollback: -1, HoursToRollbackDone: -1, ThumbsTrend: thumbsTrend,
		HarmContexts: harmCtx,
		Served:       map[string]float64{}, Sycophantic: map[string]float64{}, HarmWeighted: map[string]float64{}}
	// Per segment, in the order of w.segments; into out's maps at the end.
	segServed, segSyc, segHarm := make([]float64, S), make([]float64, S), make([]float64, S)
	src := rand.NewPCG(cfg.Seed, streamDeploy)
	rollStart := d.AlphaHours
	exposure := func(t float64) float64 {
		if t < rollStart {
			return d.AlphaShare
		}
		return min(1, d.AlphaShare*boolf(d.AlphaHours > 0)+(t-rollStart)/d.RolloutHours)
	}
	detect, mitigate, rollback, done := math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1)
	frozen := -1.0 // exposure held from detection on
	cum := 0.0
	// Count until the rollback completes; the horizon only bounds a drift
	// that is never detected.
	end := func() float64 {
		if math.IsInf(detect, 1) {
			return d.HorizonHours
		}
		return done
	}
	for t := 0.0; t < end(); t += deployStep {
		mid := t + deployStep/2
		if frozen < 0 && mid >= detect {
			frozen = exposure(detect)
			out.CaughtInAlpha = detect <= rollStart
		}
		e := exposure(mid)
		if mid >= detect {
			e = frozen
		}
		if mid >= rollback {
			e = frozen * max(0, 1-(mid-rollback)/d.RollbackHours)
		}
		out.PeakExposure = max(out.PeakExposure, e)
		k := 0
		if mid >= mitigate {
			k = 1
		}
		served := e * d.ResponsesPerHour * deployStep
		excess := 0.0
		for s := range w.segments {
			ns := served * segShare[s]
			segServed[s] += ns
			for st, ps := range w.sitProb {
				y := ns * ps * syc[k][s][st]
				segSyc[s] += y
				if harmSit[st] {
					segHarm[s] += y * w.harm[w.sitTruth[st]][s]
				}
				excess += ns * ps * (syc[k][s][st] - incSyc)
			}
		}
		lambda := max(0, excess) * d.ComplaintRate
		if t < rollStart {
			lambda *= d.AlphaReportRate
		}
		if lambda > 0 && math.IsInf(detect, 1) {
			got := distuv.Poisson{Lambda: lambda, Src: src}.Rand()
			out.Complaints += got
			cum += got
			if cum >= d.Threshold && out.HoursToAlarm < 0 {
				alarm := t + deployStep
				out.HoursToAlarm = alarm
				detect = alarm + d.LagHours
				mitigate = detect + d.MitigationHours
				rollback = detect + d.RollbackDelay
				done = rollback + d.RollbackHours
			}
		}
	}
	if !math.IsInf(detect, 1) {
		out.HoursToDetection = detect
		if mitigate < done {
			out.HoursToMitigation = mitigate
		}
		out.HoursToRollback = rollback
		out.HoursToRollbackDone = done
	}
	for s, n := range w.segments {
		out.Served[n], out.Sycophantic[n], out.HarmWeighted[n] = segServed[s], segSyc[s], segHarm[s]
	}
	for _, n := range w.segments {
		out.SycophanticTotal += out.Sycophantic[n]
		out.HarmWeightedTotal += out.HarmWeighted[n]
	}
	return out
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
