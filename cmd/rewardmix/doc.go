// Command rewardmix simulates RL post-training of a language model under a
// weighted mix of reward signals (correctness, Model Spec adherence, user
// thumbs-up, memory), and measures how adding a user-feedback reward to the
// mix weakened the primary reward that held sycophancy in check: each
// signal's influence on every update, sycophancy overall and per user
// segment, and a gold utility training never sees, then the release review
// and the deployment that followed.
//
// Usage:
//
//	rewardmix run [-o DIR] [--seed N] [--no-plots] <preset | config.toml>
//	rewardmix check <config.toml | preset>...
//	rewardmix presets [name]
//	rewardmix sweep [flags] <sweep.toml>
//	rewardmix merge -o DIR <shard folder>...
//	rewardmix show <sweep folder> <run_id>
//	rewardmix review <run folder> [--gates gates.toml]
//	rewardmix plot <run or sweep folder>... [--kind K] [-o F]
//	rewardmix serve [--addr 127.0.0.1:8080]
//	rewardmix report <preset | config | folder> -o F.html
//
// `rewardmix run incident` trains on the built-in incident preset and
// writes out/incident: steps.csv, summary.json, the resolved config.toml and
// the figures. Every command takes --help. Exit status: 0 success; 1 the
// run failed (it diverged, it was interrupted, a file could not be
// written; for a sweep, some runs failed); 2 bad input (usage, a config, an
// output folder that holds other files), with a one-line message naming the
// file, line, column and key where it can.
//
// The command is glue: the simulator is package sim, configs package
// configs, sweeps package sim/sweep, results folders package sim/results,
// figures package plots, and the workshop page and the report live in
// internal/workshop and internal/report. Each subcommand is a
// runX(ctx, args, stdout, stderr) function in its own file, which tests call
// directly; errors become exit codes in one place (exitCode in main.go).
// Progress goes to stderr, and only as a bar on a terminal.
package main
