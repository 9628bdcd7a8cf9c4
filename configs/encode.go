package configs

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rewardmix/rewardmix/reward"
	"github.com/rewardmix/rewardmix/sim"
)

// Encode writes cfg as a fully resolved TOML file: every key written out,
// no extends, named tables in sorted order, and for each signal only the
// keys of its kind. Load reads it back to an equal config.
func Encode(cfg *sim.Config) []byte {
	var b strings.Builder
	b.WriteString("# Resolved rewardmix config: every setting written out. `rewardmix run` accepts it as is.\n")
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	// Scalars first, then tables, in field order.
	for i := 0; i < t.NumField(); i++ {
		if k := v.Field(i).Kind(); k != reflect.Struct && k != reflect.Map {
			writeKV(&b, tag(t.Field(i)), v.Field(i))
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		switch fv.Kind() {
		case reflect.Struct:
			writeTable(&b, tag(f), fv)
		case reflect.Map:
			for _, n := range mapKeys(fv) {
				ev := fv.MapIndex(reflect.ValueOf(n))
				fmt.Fprintf(&b, "\n[%s.%s]\n", tag(f), n)
				var only []string
				if s, ok := ev.Interface().(reward.Spec); ok {
					only = reward.Keys(s.Kind)
				}
				writeStruct(&b, ev, only)
				if s, ok := ev.Interface().(reward.Spec); ok && s.Kind == reward.KindTable {
					fmt.Fprintf(&b, "\n[%s.%s.table]\n", tag(f), n)
					for _, k := range sim.Names(s.Table) {
						writeKV(&b, k, reflect.ValueOf(s.Table[k]))
					}
				}
			}
		}
	}
	return []byte(b.String())
}

// writeTable writes a struct as a table, its scalars first and then each
// nested struct as a sub-table.
func writeTable(b *strings.Builder, name string, v reflect.Value) {
	fmt.Fprintf(b, "\n[%s]\n", name)
	writeStruct(b, v, nil)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if k := tag(t.Field(i)); k != "" && v.Field(i).Kind() == reflect.Struct {
			writeTable(b, name+"."+k, v.Field(i))
		}
	}
}

func writeStruct(b *strings.Builder, v reflect.Value, only []string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		k := tag(t.Field(i))
		if k == "" || v.Field(i).Kind() == reflect.Map || v.Field(i).Kind() == reflect.Struct {
			continue
		}
		if only != nil && !slices.Contains(only, k) {
			continue
		}
		writeKV(b, k, v.Field(i))
	}
}

func writeKV(b *strings.Builder, k string, v reflect.Value) {
	if k == "" {
		return
	}
	fmt.Fprintf(b, "%s = %s\n", k, formatValue(v))
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return quote(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float64:
		return formatFloat(v.Float())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic("configs: cannot encode " + v.Kind().String())
}

// formatFloat writes the shortest decimal that reads back to f, always as
// a TOML float.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// quote writes a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tag(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("toml"), ",")[0]
}

func rvalue(cfg *sim.Config) reflect.Value { return reflect.ValueOf(cfg).Elem() }
