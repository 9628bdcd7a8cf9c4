package configs

import (
	"github.com/rewardmix/rewardmix/sim"
)

// ApplyReview returns a copy of cfg with the [review] and [deployment]
// tables of a gates file (named name in errors) applied key by key; any
// other key is an error. The result is validated, with errors placed in
// the gates file.
func ApplyReview(cfg *sim.Config, name string, data []byte) (*sim.Config, error) {
	src, err := parseSource(name, data)
	if err != nil {
		return nil, err
	}
	for _, k := range sim.Names(src.raw) {
		if k != "review" && k != "deployment" {
			return nil, src.fail(&sim.FieldError{Key: k, Msg: "a gates file sets only [review] and [deployment]"})
		}
	}
	out := cfg.Clone()
	d := &decoder{merge: true}
	if err := d.decodeStruct(src.raw, rvalue(out), ""); err != nil {
		return nil, src.fail(err)
	}
	if err := out.Validate(); err != nil {
		return nil, src.fail(err)
	}
	return out, nil
}
