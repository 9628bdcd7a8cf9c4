package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/rewardmix/rewardmix/configs"
	"github.com/rewardmix/rewardmix/plots"
	"github.com/rewardmix/rewardmix/sim"
	"github.com/rewardmix/rewardmix/sim/results"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the run itself failed (diverged, I/O)
	exitInput   = 2 // bad input: usage, config, arguments
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "train on a preset or config file and write results", runRun},
	{"check", "validate config files without running them", runCheck},
	{"sweep", "run a parameter sweep (parallel, resumable, shardable)", runSweep},
	{"merge", "join the shard folders of a sweep into one result", runMerge},
	{"show", "print the resolved config of one run of a sweep folder", runShow},
	{"review", "re-judge a finished run's release under other gate settings", runReview},
	{"plot", "draw figures from run and sweep folders", runPlot},
	{"sensitivity", "Sobol sensitivity indices of a sweep of mode sobol", runSensitivity},
	{"presets", "list the built-in presets, or print one", runPresets},
	{"serve", "serve the interactive workshop page on 127.0.0.1", runServe},
	{"report", "write a self-contained HTML report of a preset, run or sweep", runReport},
}

func main() {
	// SIGTERM too: Slurm and Kubernetes send it at a time limit or eviction,
	// and a sweep then stops cleanly with its resume hint.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	if path := os.Getenv("REWARDMIX_CPUPROFILE"); path != "" { // for profiling the tool itself
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0] and maps its error to an
// exit status, printing the error on stderr.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitInput
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			fmt.Fprintf(stderr, "rewardmix %s: %v\n", c.name, err)
			return exitCode(err)
		}
	}
	fmt.Fprintf(stderr, "rewardmix: unknown command %q\n", args[0])
	usage(stderr)
	return exitInput
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rewardmix <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'rewardmix <command> --help' for a command's flags.")
}

// inputError marks an error as the user's input being wrong (exit 2).
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func inputErrorf(format string, a ...any) error {
	return &inputError{fmt.Errorf(format, a...)}
}

func exitCode(err error) int {
	var ie *inputError
	var ce *configs.Error
	var fe *sim.FieldError
	var de *plots.DataError
	var re *results.Error
	if errors.As(err, &ie) || errors.As(err, &ce) || errors.As(err, &fe) || errors.As(err, &de) || errors.As(err, &re) {
		return exitInput
	}
	return exitFailure
}

// parseFlags parses flags that may come before or after positional
// arguments, and returns the positional ones. On -h or --help it prints the
// usage to stdout and returns flag.ErrHelp; on a bad flag it returns an
// input error and prints nothing (the caller reports the error).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				fs.Usage()
				fs.SetOutput(io.Discard)
				return nil, err
			}
			return nil, inputErrorf("%v (see 'rewardmix %s --help')", err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			// A flag that names a file or folder and was given empty
			// would silently fall back to its default: refuse it.
			var empty string
			fs.Visit(func(f *flag.Flag) {
				if (f.Name == "o" || f.Name == "gates") && f.Value.String() == "" && empty == "" {
					empty = f.Name
				}
			})
			if empty != "" {
				return nil, inputErrorf("-%s \"\": want a name (leave the flag out for the default)", empty)
			}
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set whose usage names the synopsis and flags.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rewardmix %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// loadConfig loads a preset by name or a TOML file by path.
func loadConfig(arg string) (*sim.Config, string, error) {
	if configs.IsPreset(arg) {
		cfg, err := configs.Preset(arg)
		return cfg, arg, err
	}
	data, err := results.ReadConfig(arg) // a regular .toml file, read with a bound
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", inputErrorf("%s: no such file, and no preset of that name (presets: %s)", arg, strings.Join(configs.PresetNames(), ", "))
		}
		return nil, "", err // a *configs.Error naming the file: exit 2
	}
	cfg, err := configs.Load(arg, data, results.ReadRelative)
	if err != nil {
		return nil, "", err
	}
	return cfg, stem(arg), nil
}

// stem is a file's name without its folder and extension.
func stem(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}
