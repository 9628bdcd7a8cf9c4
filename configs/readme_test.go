package configs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// docKey is one key a config accepts, as the README names it: a dotted path
// with <name> for an entry of a named table, and for a signal key the kind
// whose signals accept it.
type docKey struct {
	key  string
	kind reward.Kind
}

func (k docKey) String() string {
	if k.kind == "" {
		return k.key
	}
	return k.key + " (" + string(k.kind) + ")"
}

// configKeys lists every key a config accepts: extends, then sim.Config's
// fields by their toml tags, with the keys of signals per kind from
// reward.Keys.
func configKeys(t *testing.T) []docKey {
	t.Helper()
	keys := []docKey{{key: "extends"}}
	specType := reflect.TypeFor[reward.Spec]()
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			k := tag(typ.Field(i))
			if k == "" || k == "-" {
				continue
			}
			p := join(prefix, k)
			switch ft := typ.Field(i).Type; {
			case ft.Kind() == reflect.Struct:
				walk(ft, p)
			case ft.Kind() == reflect.Map && ft.Elem() == specType:
				for _, kind := range reward.Kinds {
					for _, sk := range reward.Keys(kind) {
						keys = append(keys, docKey{p + ".<name>." + sk, kind})
					}
				}
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), p+".<name>")
			case ft.Kind() == reflect.Map:
				t.Fatalf("%s: a map of %s; configKeys knows only named tables of structs", p, ft.Elem())
			default:
				keys = append(keys, docKey{key: p})
			}
		}
	}
	walk(reflect.TypeFor[sim.Config](), "")
	// reward.Keys must cover the Spec, or the walk above misses a key.
	for i := range specType.NumField() {
		k, found := tag(specType.Field(i)), false
		for _, kind := range reward.Kinds {
			found = found || slices.Contains(reward.Keys(kind), k)
		}
		if k != "" && !found {
			t.Errorf("reward.Spec has key %q, which reward.Keys gives to no kind: add it to its kind in reward.Keys", k)
		}
	}
	return keys
}

// configRow is one row of README.md's config table with its key cell
// expanded: the keys it names and the default it gives each.
type configRow struct {
	line     int
	keys     []docKey
	defaults []string
}

var (
	backticked = regexp.MustCompile("`([^`]*)`")
	kindSuffix = regexp.MustCompile(`\((\w+)\)\s*$`)
)

// readConfigTable parses the key | default | range | meaning table of the
// "## Config reference" section of ../README.md. A key cell may name
// several keys: `a.b.c`, `d`, `e` are a.b.c, a.b.d and a.b.e; a signal
// key followed by (kind) is that kind's, and one without applies to every
// kind. A default cell gives one value for all the keys or one per key,
// separated by commas.
func readConfigTable(t *testing.T) []configRow {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if l == "## Config reference" {
			start = i
		}
	}
	if start < 0 {
		t.Fatal(`README.md has no "## Config reference" section`)
	}
	const header = "| key | default | range | meaning |"
	var rows []configRow
	inTable := false
	for i := start + 1; i < len(lines) && !strings.HasPrefix(lines[i], "## "); i++ {
		l, lineNo := strings.TrimSpace(lines[i]), i+1
		switch {
		case l == header:
			inTable = true
			continue
		case !inTable:
			continue
		case !strings.HasPrefix(l, "|"):
			return rows
		case strings.HasPrefix(l, "|---"):
			continue
		}
		cells := strings.Split(strings.ReplaceAll(l, `\|`, "\x00"), "|")
		if len(cells) != 6 || cells[0] != "" || cells[5] != "" {
			t.Errorf("README.md:%d: want four cells, key | default | range | meaning: %q", lineNo, l)
			continue
		}
		keyCell, defCell := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		row := configRow{line: lineNo}
		kind := ""
		if m := kindSuffix.FindStringSubmatch(keyCell); m != nil {
			kind = m[1]
		}
		var prefix string
		for j, m := range backticked.FindAllStringSubmatch(keyCell, -1) {
			k := m[1]
			if j == 0 {
				prefix = k[:strings.LastIndex(k, ".")+1]
			} else {
				k = prefix + k
			}
			row.keys = append(row.keys, docKey{k, reward.Kind(kind)})
		}
		if len(row.keys) == 0 {
			t.Errorf("README.md:%d: no `key` in the key cell %q", lineNo, keyCell)
			continue
		}
		row.defaults = []string{defCell}
		if len(row.keys) > 1 {
			row.defaults = strings.Split(defCell, ",")
		}
		for j := range row.defaults {
			row.defaults[j] = strings.Trim(strings.TrimSpace(row.defaults[j]), "`")
		}
		switch len(row.defaults) {
		case len(row.keys):
		case 1:
			for len(row.defaults) < len(row.keys) {
				row.defaults = append(row.defaults, row.defaults[0])
			}
		default:
			t.Errorf("README.md:%d: %d keys but %d defaults %q: give one default for all or one per key", lineNo, len(row.keys), len(row.defaults), defCell)
			continue
		}
		rows = append(rows, row)
	}
	if !inTable {
		t.Fatalf("README.md: no %q table in the Config reference section", header)
	}
	return rows
}

// TestREADMEConfigTable checks README.md's config table against the code,
// both ways: a row for every key a config accepts, every row a real key,
// and each default the one a config gets (baseline's value for the keys of
// the top-level tables, the Go default of a new entry for <name> keys).
func TestREADMEConfigTable(t *testing.T) {
	accepted := map[docKey]bool{}
	known := map[string]int{}
	for _, k := range configKeys(t) {
		accepted[k] = true
		known[k.key] = 0
	}
	documented := map[docKey]int{} // the line that documents each key
	said := map[string]bool{}      // a row without a kind is checked per kind: say each thing once
	base := Default()
	for _, row := range readConfigTable(t) {
		for j, k := range row.keys {
			var ks []docKey
			if k.kind == "" && strings.HasPrefix(k.key, "signals.<name>.") {
				for _, kind := range reward.Kinds { // a row without a kind is every kind's
					ks = append(ks, docKey{k.key, kind})
				}
			} else {
				ks = []docKey{k}
			}
			for _, dk := range ks {
				if !accepted[dk] {
					if _, ok := known[dk.key]; ok {
						t.Errorf("README.md:%d: the row names %s, but %s signals do not accept %s: write the kinds that do, in parentheses after the key", row.line, k, dk.kind, dk.key)
					} else {
						t.Errorf("README.md:%d: the row names %s, which no config accepts%s: fix the key or delete the row", row.line, k, suggest(dk.key, known))
					}
					break
				}
				if l, dup := documented[dk]; dup {
					t.Errorf("README.md:%d: %s has a row already, at line %d: keep one", row.line, dk, l)
				}
				documented[dk] = row.line
				if msg := checkDefault(dk, row.defaults[j], base); msg != "" && !said[msg] {
					said[msg] = true
					t.Errorf("README.md:%d: %s", row.line, msg)
				}
			}
		}
	}
	for _, k := range configKeys(t) {
		if _, ok := documented[k]; ok {
			continue
		}
		row := "`" + k.key + "`"
		if k.kind != "" && !commonKey(strings.TrimPrefix(k.key, "signals.<name>.")) {
			row += " (" + string(k.kind) + ")"
		}
		def := "none"
		if k.key != "extends" {
			v, _, _ := defaultOf(k, base)
			def = formatDefault(v)
		}
		t.Errorf("README.md's config table has no row for %s: add | %s | %s | range | meaning |", k, row, def)
	}
}

// checkDefault compares the default a README row gives key with the one a
// config gets, and says what to fix if they differ.
func checkDefault(k docKey, cell string, base *sim.Config) string {
	switch {
	case k.key == "extends":
		if cell != "none" {
			return fmt.Sprintf("extends has default %q, but a config without it extends nothing: write none", cell)
		}
		return ""
	case k.key == "signals.<name>.kind":
		if cell != "required" {
			return fmt.Sprintf("signals.<name>.kind has default %q, but every signal must write its kind: write required", cell)
		}
		return checkRequired("kind", "")
	case cell == "required":
		if !strings.HasPrefix(k.key, "signals.<name>.") {
			return fmt.Sprintf("%s is %q, which only a signal key can be: give its default", k, cell)
		}
		return checkRequired(strings.TrimPrefix(k.key, "signals.<name>."), k.kind)
	}
	v, source, fix := defaultOf(k, base)
	if cellEquals(cell, v) {
		return ""
	}
	if cell == "" {
		return fmt.Sprintf("%s has no default: write %s (%s it)", k, formatDefault(v), source)
	}
	return fmt.Sprintf("%s has default %s, but %s %s: fix the row, or %s", k, cell, source, formatDefault(v), fix)
}

// entryDefaults names where each named table's entry default is defined.
var entryDefaults = map[string]string{
	"contexts":  "sim.DefaultContext",
	"segments":  "sim.DefaultSegment",
	"responses": "sim.DefaultResponse",
	"signals":   "reward.Default",
}

// defaultOf returns the default of a key, with words for where it comes
// from and for what to change instead of the README: baseline's value for
// a key of a top-level table, a new entry's for a <name> key.
func defaultOf(k docKey, base *sim.Config) (v reflect.Value, source, fix string) {
	parts := strings.Split(k.key, ".")
	if len(parts) == 3 && parts[1] == "<name>" {
		v, _ = fieldByTag(newEntry(parts[0], k.kind), parts[2])
		if k.kind != "" {
			return v, fmt.Sprintf("a new %s signal starts from", k.kind), "reward.Default (and baseline.toml's signals of that kind with it)"
		}
		return v, fmt.Sprintf("a new entry of [%s.*] starts from", parts[0]), entryDefaults[parts[0]]
	}
	v = rvalue(base)
	for _, p := range parts {
		v, _ = fieldByTag(v, p)
	}
	return v, "baseline.toml gives", "baseline.toml"
}

func formatDefault(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Uint64, reflect.Float64:
		return formatValue(v)
	case reflect.Slice:
		if b, err := json.Marshal(v.Interface()); err == nil {
			return string(b)
		}
	}
	return "a " + v.Kind().String()
}

// cellEquals reports whether a default cell writes the value v.
func cellEquals(cell string, v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		s, err := strconv.Unquote(cell)
		return err == nil && s == v.String()
	case reflect.Bool:
		return cell == strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Uint64, reflect.Float64:
		f, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return false
		}
		switch v.Kind() {
		case reflect.Int:
			return f == float64(v.Int())
		case reflect.Uint64:
			return f == float64(v.Uint())
		}
		return f == v.Float()
	case reflect.Slice: // a list of strings, written as in TOML: ["*"]
		var list []string
		if err := json.Unmarshal([]byte(cell), &list); err != nil || v.Type().Elem().Kind() != reflect.String {
			return false
		}
		return reflect.DeepEqual(list, v.Interface())
	}
	return false
}

// checkRequired checks that a new signal of kind without key is refused,
// by an error about that key (for key kind: a new signal without a kind).
func checkRequired(key string, kind reward.Kind) string {
	text := "extends = \"baseline\"\n[signals.probe]\n"
	want := "signals.probe." + key
	if key == "kind" {
		want = "signals.probe"
	} else {
		text += fmt.Sprintf("kind = %q\n", kind)
	}
	_, err := Load("probe.toml", []byte(text), nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != want || !strings.Contains(err.Error(), key) {
		k := docKey{"signals.<name>." + key, kind}
		return fmt.Sprintf("%s is required, but %q loads with error %v, not one about %s: give the row its default", k, text, err, want)
	}
	return ""
}

// TestBaselineSignalsUseKindDefaults checks that every kind parameter
// baseline.toml writes for a signal (a key only its kind has: noise,
// detection, ...) is the kind's default, which a new signal gets: the
// defaults have one source, reward.Default, and baseline cannot disagree
// with it. Weights and steps, a table's contents, and every key of
// contexts, segments and responses are each entry's own choice.
func TestBaselineSignalsUseKindDefaults(t *testing.T) {
	src, _ := PresetSource("baseline")
	var raw struct {
		Signals map[string]map[string]any `toml:"signals"`
	}
	if _, err := toml.Decode(string(src), &raw); err != nil {
		t.Fatal(err)
	}
	base := Default()
	checked := 0
	for _, name := range sim.Names(raw.Signals) {
		got := base.Signals[name]
		def := reward.Default(got.Kind)
		for _, k := range sim.Names(raw.Signals[name]) {
			if !kindParam(got.Kind, k) {
				continue
			}
			g, _ := fieldByTag(reflect.ValueOf(got), k)
			d, _ := fieldByTag(reflect.ValueOf(def), k)
			if !reflect.DeepEqual(g.Interface(), d.Interface()) {
				t.Errorf("baseline.toml: [signals.%s] %s = %s, but a new %s signal starts from %s (reward.Default): make them equal (changing baseline changes every preset's results)", name, k, formatValue(g), got.Kind, formatValue(d))
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("baseline.toml writes no kind parameter of any signal: nothing checked")
	}
}

// kindParam reports whether key is a parameter of its kind rather than the
// entry's own choice: a key that not every kind has, a table's contents
// excepted.
func kindParam(kind reward.Kind, key string) bool {
	return key != "table" && slices.Contains(reward.Keys(kind), key) && !commonKey(key)
}

// commonKey reports whether every kind of signal has key.
func commonKey(key string) bool {
	for _, k := range reward.Kinds {
		if !slices.Contains(reward.Keys(k), key) {
			return false
		}
	}
	return true
}
