package configs_test

import (
	"fmt"

	"github.com/rewardmix/rewardmix/configs"
)

// A misspelt key is reported on one line, with its position, its dotted
// path and the key it was probably meant to be.
func ExampleLoad() {
	src := `extends = "incident"

[train]
stepz = 300
`
	_, err := configs.Load("my.toml", []byte(src), nil)
	fmt.Println(err)
	// Output:
	// my.toml:4:1: train.stepz: unknown key (did you mean "steps"?)
}

// A file that extends a preset changes only what it writes.
func ExampleLoad_extends() {
	src := `extends = "incident"

[signals.thumbs]
weight = 4.0
`
	cfg, err := configs.Load("heavier.toml", []byte(src), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	th := cfg.Signals["thumbs"]
	fmt.Println(cfg.Name, th.Kind, th.Weight, th.StartStep, len(cfg.Signals))
	// Output:
	// incident thumbs 4 150 4
}
