package configs

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// decoder fills a sim.Config from the generic tree BurntSushi/toml parses,
// so that every unknown key, type mismatch and kind-specific key is reported
// by its dotted path. merge decides what a named table (contexts, segments,
// responses, signals) does to the one already in the config: replace it
// whole (false) or update it entry by entry (true, for extends).
type decoder struct {
	merge bool
}

func (d *decoder) decodeStruct(raw map[string]any, v reflect.Value, path string) error {
	t := v.Type()
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if tag != "" && tag != "-" {
			fields[tag] = i
		}
	}
	for _, k := range sim.Names(raw) {
		kp := join(path, k)
		i, ok := fields[k]
		if !ok {
			return &sim.FieldError{Key: kp, Msg: "unknown key" + suggest(k, fields)}
		}
		if err := d.decodeValue(raw[k], v.Field(i), kp); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeValue(val any, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Struct:
		m, ok := val.(map[string]any)
		if !ok {
			return typeErr(path, val, "a table")
		}
		return d.decodeStruct(m, v, path)
	case reflect.Map:
		m, ok := val.(map[string]any)
		if !ok {
			return typeErr(path, val, "a table")
		}
		return d.decodeMap(m, v, path)
	case reflect.Slice:
		arr, ok := val.([]any)
		if !ok {
			return typeErr(path, val, "an array of numbers")
		}
		out := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, e := range arr {
			if err := d.decodeValue(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(out)
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return typeErr(path, val, "a string")
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return typeErr(path, val, "true or false")
		}
		v.SetBool(b)
	case reflect.Int:
		n, ok := val.(int64)
		if !ok {
			return typeErr(path, val, "an integer")
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return &sim.FieldError{Key: path, Msg: fmt.Sprintf("%d is out of range", n)}
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, ok := val.(int64)
		if !ok {
			return typeErr(path, val, "an integer")
		}
		if n < 0 {
			return &sim.FieldError{Key: path, Msg: fmt.Sprintf("%d must be >= 0", n)}
		}
		v.SetUint(uint64(n))
	case reflect.Float64:
		switch x := val.(type) {
		case float64:
			v.SetFloat(x)
		case int64:
			v.SetFloat(float64(x))
		default:
			return typeErr(path, val, "a number")
		}
	default:
		panic("configs: unsupported field kind " + v.Kind().String())
	}
	return nil
}

// decodeMap fills a named table. Each new entry starts from its default
// (for signals, the default of its kind); in merge mode an existing entry
// is updated in place, unless it is a signal given a new kind.
func (d *decoder) decodeMap(raw map[string]any, v reflect.Value, path string) error {
	if v.IsNil() || (!d.merge && isNamedTable(path)) {
		v.Set(reflect.MakeMap(v.Type()))
	}
	et := v.Type().Elem()
	for _, name := range sim.Names(raw) {
		kp := join(path, name)
		ev := reflect.New(et).Elem()
		if old := v.MapIndex(reflect.ValueOf(name)); old.IsValid() && !kindChanged(old, raw[name]) {
			ev.Set(old)
		} else if def, err := entryDefault(path, raw[name], kp); err != nil {
			return err
		} else if def.IsValid() {
			ev.Set(def)
		}
		if err := d.decodeValue(raw[name], ev, kp); err != nil {
			return err
		}
		if spec, ok := ev.Interface().(reward.Spec); ok {
			if err := checkKindKeys(raw[name], spec.Kind, kp); err != nil {
				return err
			}
		}
		v.SetMapIndex(reflect.ValueOf(name), ev)
	}
	return nil
}

// kindChanged reports whether raw gives the existing signal old another
// kind: it then starts again from its new kind's defaults, as a new entry
// does, rather than keep parameters of the old kind that it cannot write.
func kindChanged(old reflect.Value, raw any) bool {
	s, ok := old.Interface().(reward.Spec)
	if !ok {
		return false
	}
	m, _ := raw.(map[string]any)
	k, ok := m["kind"].(string)
	return ok && reward.Kind(k) != s.Kind
}

func isNamedTable(path string) bool {
	switch path {
	case "contexts", "segments", "responses", "signals":
		return true
	}
	return false
}

// entryDefault returns the starting value of a new entry of a named table,
// from its raw TOML (a signal's kind picks its default), or an invalid Value
// for a map that is not a named table (a signal's table).
func entryDefault(path string, raw any, kp string) (reflect.Value, error) {
	if !isNamedTable(path) {
		return reflect.Value{}, nil
	}
	var kind reward.Kind
	if path == "signals" {
		m, ok := raw.(map[string]any)
		if !ok {
			return reflect.Value{}, typeErr(kp, raw, "a table")
		}
		k, ok := m["kind"]
		if !ok {
			return reflect.Value{}, &sim.FieldError{Key: kp, Msg: "missing key kind (one of " + kindNames() + ")"}
		}
		ks, ok := k.(string)
		if !ok {
			return reflect.Value{}, typeErr(kp+".kind", k, "a string")
		}
		kind = reward.Kind(ks)
		if reward.Keys(kind) == nil {
			return reflect.Value{}, &sim.FieldError{Key: kp + ".kind", Msg: fmt.Sprintf("unknown signal kind %q (want one of %s)", kind, kindNames())}
		}
	}
	return newEntry(path, kind), nil
}

// newEntry returns the default of a new entry of the named table (of the
// given kind, for signals). The defaults themselves live beside the types
// they default: sim.DefaultContext, sim.DefaultSegment, sim.DefaultResponse
// and reward.Default.
func newEntry(table string, kind reward.Kind) reflect.Value {
	switch table {
	case "contexts":
		return reflect.ValueOf(sim.DefaultContext())
	case "segments":
		return reflect.ValueOf(sim.DefaultSegment())
	case "responses":
		return reflect.ValueOf(sim.DefaultResponse())
	case "signals":
		return reflect.ValueOf(reward.Default(kind))
	}
	panic("configs: no named table " + table)
}

// checkKindKeys rejects keys that belong to another kind of signal.
func checkKindKeys(raw any, kind reward.Kind, path string) error {
	m, _ := raw.(map[string]any)
	allowed := reward.Keys(kind)
	if allowed == nil {
		return &sim.FieldError{Key: path + ".kind", Msg: fmt.Sprintf("unknown signal kind %q (want one of %s)", kind, kindNames())}
	}
	for _, k := range sim.Names(m) {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return &sim.FieldError{Key: path + "." + k, Msg: fmt.Sprintf("key does not apply to kind %q (its keys: %s)", kind, strings.Join(allowed, ", "))}
		}
	}
	return nil
}

func typeErr(path string, val any, want string) error {
	return &sim.FieldError{Key: path, Msg: fmt.Sprintf("wrong type: got %s, want %s", tomlType(val), want)}
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// suggest names the closest known key when it is a likely typo.
func suggest(k string, fields map[string]int) string {
	best, bd := "", 3
	for f := range fields {
		if d := editDistance(k, f); d < bd || (d == bd && f < best) {
			best, bd = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// kindNames lists the signal kinds for messages.
func kindNames() string {
	names := make([]string, len(reward.Kinds))
	for i, k := range reward.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
