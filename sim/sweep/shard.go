package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a sweep split for a job array: shard Index of
// Count holds runs Index, Index+Count, Index+2 Count, ... The zero value
// is the whole sweep.
type Shard struct{ Index, Count int }

func (sh Shard) normal() Shard {
	if sh.Count == 0 {
		return Shard{0, 1}
	}
	return sh
}

// Indices returns the runs of shard sh of a sweep of total runs.
func (sh Shard) Indices(total int) []int {
	sh = sh.normal()
	var idx []int
	for i := sh.Index; i < total; i += sh.Count {
		idx = append(idx, i)
	}
	return idx
}

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(v, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %s: want i/n, for example 3/16", v)
	}
	return parseShard("--shard", i, n)
}

func parseShard(src, i, n string) (Shard, error) {
	ii, err1 := strconv.Atoi(strings.TrimSpace(i))
	nn, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil || nn < 1 || ii < 0 || ii >= nn {
		return Shard{}, fmt.Errorf("%s: want shard i/n with 0 <= i < n, got %s/%s", src, i, n)
	}
	return Shard{Index: ii, Count: nn}, nil
}

// ShardFromEnv reads the shard of a job array from the environment (getenv
// is os.Getenv, or a map's lookup in tests): a Slurm job array
// (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, counted from
// SLURM_ARRAY_TASK_MIN, so that --array=1-16 works) or a Kubernetes Indexed
// Job (JOB_COMPLETION_INDEX, with JOB_COMPLETIONS set to the Job's
// completions). ok is false when neither is set.
func ShardFromEnv(getenv func(string) string) (sh Shard, ok bool, err error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		n := getenv("SLURM_ARRAY_TASK_COUNT")
		if n == "" {
			return Shard{}, true, fmt.Errorf("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard i/n")
		}
		if lo := getenv("SLURM_ARRAY_TASK_MIN"); lo != "" {
			a, err1 := strconv.Atoi(id)
			b, err2 := strconv.Atoi(lo)
			if err1 == nil && err2 == nil {
				id = strconv.Itoa(a - b)
			}
		}
		sh, err := parseShard("SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT", id, n)
		return sh, true, err
	}
	if id := getenv("JOB_COMPLETION_INDEX"); id != "" {
		n := getenv("JOB_COMPLETIONS")
		if n == "" {
			return Shard{}, true, fmt.Errorf("JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not (set it to the Job's completions); or pass --shard i/n")
		}
		sh, err := parseShard("JOB_COMPLETION_INDEX/JOB_COMPLETIONS", id, n)
		return sh, true, err
	}
	return Shard{Index: 0, Count: 1}, false, nil
}
