package policy_test

import (
	"fmt"

	"github.com/rewardmix/rewardmix/policy"
)

// A tabular policy over two cells and three responses: moving one logit
// of cell 0 changes that cell's distribution and its KL to the reference,
// and leaves cell 1 alone.
func ExamplePolicy() {
	p := policy.New(policy.Features{Cells: 2, Actions: 3, Tabular: true, Prior: []float64{0, -1, -1}})
	ref := make([]float64, 3)
	p.RefProbs(ref)
	p.Theta[0*3+1] = 2 // cell 0, response 1
	probs := make([]float64, 3)
	for cell := 0; cell < 2; cell++ {
		p.Probs(probs, policy.Context{Cell: cell})
		fmt.Printf("cell %d: pi = %.3f  KL = %.3f\n", cell, probs, policy.KL(probs, ref))
	}
	// Output:
	// cell 0: pi = [0.245 0.665 0.090]  KL = 0.474
	// cell 1: pi = [0.576 0.212 0.212]  KL = 0.000
}
