package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// position is a 1-based line and column in a TOML file.
type position struct{ Line, Col int }

// keyPositions maps every dotted key path that a TOML text defines, by a
// table header or a key/value line, to where it is written. It is a light
// scanner, not a parser: it runs only on text that BurntSushi/toml has
// already accepted, and reads headers ([a.b], [[a]]) and key = value lines
// with bare, quoted or dotted keys. Keys inside inline tables map to the
// line of the key that holds the inline table, even when it spans lines.
func keyPositions(text string) map[string]position {
	pos := map[string]position{}
	table := ""
	arrays := map[string]int{} // [[name]] headers seen so far, per name
	inMultiline := ""          // the closing delimiter of a multi-line string, if inside one
	depth := 0                 // bracket depth of a multi-line array or inline table value
	for i, line := range strings.Split(stripBOM(text), "\n") {
		ln := i + 1
		if inMultiline != "" {
			if strings.Contains(line, inMultiline) {
				inMultiline = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(line)
			continue
		}
		trimmed := strings.TrimLeft(line, " \t")
		col := len(line) - len(trimmed) + 1
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '[' {
			inner := strings.TrimPrefix(trimmed, "[[")
			isArray := inner != trimmed
			if !isArray {
				inner = trimmed[1:]
			}
			end := strings.IndexByte(inner, ']')
			if end < 0 {
				continue
			}
			table = dotted(inner[:end])
			if _, ok := pos[table]; !ok {
				pos[table] = position{ln, col}
			}
			if isArray {
				// The n-th [[a.b]] table is a.b[n], as decode errors name it.
				n := arrays[table]
				arrays[table] = n + 1
				table = fmt.Sprintf("%s[%d]", table, n)
				pos[table] = position{ln, col}
			}
			continue
		}
		eq := keyEnd(trimmed)
		if eq < 0 {
			continue
		}
		key := join(table, dotted(trimmed[:eq]))
		if _, ok := pos[key]; !ok {
			pos[key] = position{ln, col}
		}
		val := strings.TrimLeft(trimmed[eq+1:], " \t")
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
				inMultiline = q
			}
		}
		if inMultiline == "" && (strings.HasPrefix(val, "[") || strings.HasPrefix(val, "{")) {
			depth = bracketDelta(val)
		}
	}
	return pos
}

// keyEnd returns the index of the '=' that ends the key part of a key/value
// line, skipping quoted key parts, or -1.
func keyEnd(s string) int {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '"' && c == '\\':
			i++ // an escaped character, perhaps a quote
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return i
		case c == '#':
			return -1
		}
	}
	return -1
}

// dotted normalises a key such as ` a . "b c" ` to `a.b c`.
func dotted(k string) string {
	var parts []string
	var cur, quoted strings.Builder
	quote := byte(0)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote == '"' && c == '\\' && i+1 < len(k):
			quoted.WriteByte(c)
			quoted.WriteByte(k[i+1])
			i++
		case quote != 0 && c == quote:
			cur.WriteString(unescape(quoted.String(), quote))
			quoted.Reset()
			quote = 0
		case quote != 0:
			quoted.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	cur.WriteString(quoted.String())
	parts = append(parts, cur.String())
	return strings.Join(parts, ".")
}

// unescape returns the value of a quoted key part: a basic string's
// escapes (\n, \", \u00e9) resolved, a literal string's text as it is.
func unescape(s string, quote byte) string {
	if quote != '"' || !strings.Contains(s, "\\") {
		return s
	}
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
		return u
	}
	return s
}

// bracketDelta counts '[' and '{' minus ']' and '}' outside strings and
// comments. (TOML 1.1 lets inline tables span lines, as arrays do.)
func bracketDelta(s string) int {
	d := 0
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return d
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}

// locate finds where key, or the nearest thing that defines it, is written:
// the key itself; else the first key written below it (a table given as
// [a.b] headers); else its closest written ancestor.
func locate(pos map[string]position, key string) (position, bool) {
	if key == "" {
		return position{}, false
	}
	if p, ok := pos[key]; ok {
		return p, true
	}
	// An element path such as table.x[3] belongs to table.x.
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i > 0 {
			return locate(pos, key[:i])
		}
	}
	var best position
	found := false
	for k, p := range pos {
		if strings.HasPrefix(k, key+".") && (!found || p.Line < best.Line) {
			best, found = p, true
		}
	}
	if found {
		return best, true
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return locate(pos, key[:i])
	}
	return position{}, false
}
