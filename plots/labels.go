package plots

import (
	"path/filepath"
	"strconv"
	"strings"
)

// metricAxis returns a metric's axis label in words, with its unit or
// "rate"/"share" where it is one, and the y range a rate or share is drawn
// over (lo = hi: the data's own range).
func metricAxis(m string) (label string, lo, hi float64) {
	base, sub, _ := strings.Cut(m, "/")
	words := strings.ReplaceAll(sub, "_", " ")
	of := func(s string) string {
		if sub == "" {
			return s
		}
		return s + ", " + words + " users"
	}
	switch base {
	case "sycophancy_rate":
		return of("sycophancy rate"), 0, 0.5
	case "thumbs_up_rate":
		return of("thumbs-up rate"), 0, 1
	case "eval":
		return words + " eval (rate)", 0, 1
	case "influence":
		if sub == "kl" {
			return "KL penalty's share of the update", 0, 1
		}
		return words + "'s share of the update", 0, 1
	case "response_share":
		return "share of " + words + " responses", 0, 1
	case "weight":
		return "effective weight of " + words, 0, 0
	case "reward":
		return words + " reward (expected, unweighted)", 0, 0
	case "advantage_share":
		return words + "'s share of the advantage's variance", 0, 0
	case "alignment":
		return words + " alignment with the update (cosine)", -1, 1
	case "memory":
		return "remembered stance, " + words + " users", 0, 0
	case "gold":
		return "gold " + words + " (not trained on)", 0, 0
	case "gold_utility":
		return "gold utility (not trained on)", 0, 0
	case "proxy_reward":
		return "proxy reward (trained on)", 0, 0
	case "kl":
		return "KL to reference (nats)", 0, 0
	case "grad_norm":
		return "gradient norm", 0, 0
	}
	return strings.ReplaceAll(m, "_", " "), 0, 0
}

// metricName is a metric in words for a title: its axis label without
// the unit in brackets.
func metricName(m string) string {
	l, _, _ := metricAxis(m)
	if i := strings.Index(l, " ("); i > 0 {
		l = l[:i]
	}
	return l
}

// keyName is a swept key in words: signals.thumbs.weight reads "thumbs
// weight"; other keys are left as the config spells them.
func keyName(k string) string {
	if name, ok := strings.CutPrefix(k, "signals."); ok {
		return strings.ReplaceAll(strings.ReplaceAll(name, ".", " "), "_", " ")
	}
	return k
}

// ShortNumber formats a numeric parameter with at most 4 significant
// digits (linspace values such as 0.44444444444444442 would crowd a
// legend); other values are returned as they are.
func ShortNumber(v string) string {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return FormatNumber(f)
	}
	return v
}

// folderLabels names each folder by its last path element, or by as many
// of its last elements as tell it from the others (out/a/incident and
// out/b/incident read a/incident and b/incident).
func folderLabels(paths []string) []string {
	parts := make([][]string, len(paths))
	for i, p := range paths {
		parts[i] = strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")
	}
	suffix := func(i, n int) string { return strings.Join(parts[i][max(0, len(parts[i])-n):], "/") }
	labels := make([]string, len(paths))
	for i := range paths {
		for n := 1; n <= len(parts[i]); n++ {
			labels[i] = suffix(i, n)
			unique := true
			for j := range paths {
				unique = unique && (j == i || suffix(j, n) != labels[i])
			}
			if unique {
				break
			}
		}
	}
	return labels
}
