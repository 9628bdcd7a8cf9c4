package configs

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"

	"github.com/rewardmix/rewardmix/sim"
)

//go:embed presets/*.toml
var presetFS embed.FS

// Error is a configuration error: the file, the 1-based line and column
// where it can be placed (0 where not), the dotted key, and the message.
// Err is the file system error behind it, if any (see results.ReadConfig).
type Error struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
	Err       error
}

// Unwrap returns the file system error behind e, or nil.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return oneLine(b.String())
}

// oneLine escapes control characters, which a quoted key or a resolver's
// message may hold, so that an error always prints on one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseErrorPos returns the 1-based line and byte column of a syntax
// error, from its byte offset: BurntSushi/toml's own Col counts an offset
// at the start of a line on the line before, and its Line is one short for
// some errors at the end of the input. The offset can be the newline just
// before the error's line, which the parser's Line then tells.
func parseErrorPos(text string, p toml.Position) position {
	text = stripBOM(text) // as the parser does, so that offsets agree
	off := min(max(p.Start, 0), len(text))
	line := strings.Count(text[:off], "\n") + 1
	if off < len(text) && text[off] == '\n' && p.Line > line {
		off, line = off+1, line+1
	}
	return position{line, off - strings.LastIndexByte(text[:off], '\n')}
}

// stripBOM removes the byte order mark that BurntSushi/toml skips before
// parsing.
func stripBOM(text string) string {
	for _, bom := range []string{"\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"} {
		if strings.HasPrefix(text, bom) {
			return text[len(bom):]
		}
	}
	return text
}

// Resolver returns the name and contents of the config that an extends
// value refers to, relative to the file named from. Package configs calls it
// only for references that are not preset names and that end in .toml, and
// refuses data over MaxFileSize; a resolver that reads files should read
// them as results.ReadConfig does, which refuses what CheckFileInfo
// refuses and reads with that bound. The name identifies the file in errors and in the
// detection of cycles of extends.
type Resolver func(from, ref string) (name string, data []byte, err error)

// maxExtends bounds a chain of extends.
const maxExtends = 16

// Load parses a config named name (used in errors) from data. A file
// without extends starts from the defaults (the baseline preset) and a named
// table it writes ([contexts.*], [segments.*], [responses.*], [signals.*])
// replaces the default one whole; a file with extends = "preset" or
// "path.toml" starts from that config and merges entry by entry. The result
// is validated.
func Load(name string, data []byte, resolve Resolver) (*sim.Config, error) {
	return load(name, data, resolve, nil)
}

// source is one parsed TOML file: its generic tree and where each key is
// written, for errors.
type source struct {
	name string
	raw  map[string]any
	pos  map[string]position
}

func parseSource(name string, data []byte) (*source, error) {
	if err := checkSize(name, data); err != nil {
		return nil, err
	}
	text := string(data)
	var raw map[string]any
	if _, err := toml.Decode(text, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			p := parseErrorPos(text, pe.Position)
			if e := duplicateKey(name, text, pe, p); e != nil {
				return nil, e
			}
			return nil, &Error{File: name, Line: p.Line, Col: p.Col, Msg: pe.Message}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	return &source{name: name, raw: raw, pos: keyPositions(text)}, nil
}

// fail turns an error about a key of this file into an *Error placed where
// the key is written.
func (src *source) fail(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	var fe *sim.FieldError
	if !errors.As(err, &fe) {
		return &Error{File: src.name, Msg: err.Error()}
	}
	e := &Error{File: src.name, Key: fe.Key, Msg: fe.Msg}
	if p, ok := locate(src.pos, fe.Key); ok {
		e.Line, e.Col = p.Line, p.Col
	}
	return e
}

// load loads the file name, which chain (the files whose extends led to
// it, outermost first) extends.
func load(name string, data []byte, resolve Resolver, chain []string) (*sim.Config, error) {
	src, err := parseSource(name, data)
	if err != nil {
		return nil, err
	}
	if _, ok := src.raw["sweep"]; ok {
		return nil, src.fail(&sim.FieldError{Key: "sweep", Msg: "this file defines a sweep: run it with `rewardmix sweep`, or extend it without its [sweep] table"})
	}
	return loadSource(src, resolve, chain)
}

// loadSource builds the config a parsed file describes (without [sweep]);
// chain lists the files that extend it, outermost first.
func loadSource(src *source, resolve Resolver, chain []string) (*sim.Config, error) {
	raw := make(map[string]any, len(src.raw))
	for k, v := range src.raw {
		if k != "extends" && k != "sweep" {
			raw[k] = v
		}
	}
	var cfg *sim.Config
	merge := false
	if ext, ok := src.raw["extends"]; ok {
		ref, ok := ext.(string)
		if !ok {
			return nil, src.fail(typeErr("extends", ext, "a preset name or a path"))
		}
		base, err := loadRef(src.name, ref, resolve, append(slices.Clip(chain), src.name))
		if err != nil {
			var re *refError
			if errors.As(err, &re) { // about the reference itself: place it on the extends line
				return nil, src.fail(&sim.FieldError{Key: "extends", Msg: re.msg})
			}
			return nil, err // an error inside the extended file names that file
		}
		cfg, merge = base, true
	} else {
		cfg = Default()
	}
	d := &decoder{merge: merge}
	if err := d.decodeStruct(raw, rvalue(cfg), ""); err != nil {
		return nil, src.fail(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, src.fail(err)
	}
	return cfg, nil
}

// refError is an error about an extends reference (no such preset or
// file, a file that cannot be read, a cycle), which the file holding the
// extends reports at its extends line.
type refError struct{ msg string }

func (e *refError) Error() string { return e.msg }

func refErrorf(format string, a ...any) error { return &refError{fmt.Sprintf(format, a...)} }

// loadRef loads what the extends value ref of the file from refers to;
// chain lists the files from the outermost to from.
func loadRef(from, ref string, resolve Resolver, chain []string) (*sim.Config, error) {
	var name string
	var data []byte
	switch {
	case IsPreset(ref):
		name = ref
		data, _ = presetFS.ReadFile("presets/" + ref + ".toml")
	case !isTOMLName(ref) && !strings.ContainsAny(ref, `/\`):
		return nil, refErrorf("no preset named %q (presets: %s; a file path ends in .toml)", ref, strings.Join(PresetNames(), ", "))
	case !isTOMLName(ref):
		return nil, refErrorf("%q is not a .toml file: extends names a preset (%s) or a config file ending in .toml", ref, strings.Join(PresetNames(), ", "))
	case resolve == nil:
		return nil, refErrorf("cannot read %q: no file access here", ref)
	default:
		n, d, err := resolve(from, ref)
		if err == nil {
			err = checkSize(n, d)
		}
		if err != nil {
			return nil, refErrorf("%v", err)
		}
		name, data = n, d
	}
	for _, c := range chain {
		if sameFile(c, name) {
			return nil, refErrorf("a cycle: %s -> %s", strings.Join(chain, " -> "), name)
		}
	}
	if len(chain) > maxExtends {
		return nil, refErrorf("more than %d levels: %s -> %s", maxExtends, strings.Join(chain, " -> "), name)
	}
	return load(name, data, resolve, chain)
}

// sameFile reports whether two names of configs (as the caller of Load and
// the Resolver give them) name the same file.
func sameFile(a, b string) bool {
	return a == b || filepath.Clean(a) == filepath.Clean(b)
}

// Default returns the default configuration: the baseline preset, in
// which every key is written out.
func Default() *sim.Config {
	data, err := presetFS.ReadFile("presets/baseline.toml")
	if err != nil {
		panic("configs: baseline preset missing")
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		panic("configs: baseline preset: " + err.Error())
	}
	cfg := &sim.Config{}
	if err := (&decoder{}).decodeStruct(raw, rvalue(cfg), ""); err != nil {
		panic("configs: baseline preset: " + err.Error())
	}
	return cfg
}

// Preset loads a built-in preset by name.
func Preset(name string) (*sim.Config, error) {
	if !IsPreset(name) {
		return nil, fmt.Errorf("no preset named %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	data, _ := presetFS.ReadFile("presets/" + name + ".toml")
	return Load(name, data, nil)
}

// PresetSource returns the commented TOML of a preset.
func PresetSource(name string) ([]byte, bool) {
	data, err := presetFS.ReadFile("presets/" + name + ".toml")
	return data, err == nil
}

// IsPreset reports whether name is a built-in preset.
func IsPreset(name string) bool {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return false
	}
	_, err := presetFS.ReadFile("presets/" + name + ".toml")
	return err == nil
}

// PresetNames lists the built-in presets in sorted order.
func PresetNames() []string {
	ents, _ := presetFS.ReadDir("presets")
	var ns []string
	for _, e := range ents {
		ns = append(ns, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	slices.Sort(ns)
	return ns
}

// HasSweep reports whether data parses as TOML with a [sweep] table.
func HasSweep(data []byte) bool {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return false
	}
	_, ok := raw["sweep"]
	return ok
}
