//go:build race

package main

// raceNote qualifies timings measured under the race detector.
const raceNote = " (race detector on: several times slower than a normal build)"
