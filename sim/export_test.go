package sim

// Hooks for the external tests and benchmarks.

func NewTrainerForTest(cfg *Config) (*trainer, error) { return newTrainer(cfg) }

func (tr *trainer) StepForTest(t int, row []float64) { tr.step(t, row, true) }

func (tr *trainer) EvaluateForTest(row []float64, t int) { tr.evaluate(row, t) }

func (tr *trainer) NumMetrics() int { return len(tr.idx.names) }
