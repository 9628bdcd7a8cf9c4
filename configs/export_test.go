package configs

// LoadSweepEveryRun is LoadSweep validating every run's config in turn,
// the reference its faster check must agree with.
func LoadSweepEveryRun(name string, data []byte, resolve Resolver, maxRuns int) (*Sweep, error) {
	return loadSweep(name, data, resolve, maxRuns, true)
}
