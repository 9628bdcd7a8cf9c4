package configs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// The messages with which BurntSushi/toml refuses a key written twice: as
// a value or table twice, as a value then a table, and as a table or value
// then an array of tables. Each quotes the key.
var duplicateMessages = []string{
	"' has already been defined.",
	"' was already created as a hash.",
	"' was already created and cannot be used as an array.",
}

// duplicateKey rewrites BurntSushi/toml's error for a key defined twice
// into an *Error of our own, placed at the second definition (p) and
// naming where the first is, or returns nil for any other parse error.
func duplicateKey(name, text string, pe toml.ParseError, p position) *Error {
	msg, ok := strings.CutPrefix(pe.Message, "Key '")
	if !ok {
		return nil
	}
	quoted := ""
	for _, suffix := range duplicateMessages {
		if k, ok := strings.CutSuffix(msg, suffix); ok {
			quoted = k
			break
		}
	}
	if quoted == "" {
		return nil
	}
	key := unquoteKey(quoted)
	// The first definition is in the text before the second.
	text = stripBOM(text)
	pos := keyPositions(text[:min(max(pe.Position.Start, 0), len(text))])
	first, ok := pos[key]
	if !ok {
		// In an array of tables, BurntSushi/toml names a key without the
		// index of its table, the last one so far: a.x for a[2].x.
		found := ""
		for k, p := range pos {
			if stripIndices(k) == key && (!ok || p.Line > first.Line || (p.Line == first.Line && k < found)) {
				found, first, ok = k, p, true
			}
		}
		if ok {
			key = found
		}
	}
	if !ok {
		first, ok = locate(pos, key) // a table made by a dotted key or a [a.b] header, or an inline table
	}
	e := &Error{File: name, Line: p.Line, Col: p.Col, Key: key, Msg: "defined twice"}
	if ok && first.Line <= p.Line {
		e.Msg += fmt.Sprintf(" (first at line %d)", first.Line)
	}
	return e
}

// stripIndices removes the [n] of array elements from a key: a[2].x is a.x.
func stripIndices(k string) string {
	if !strings.Contains(k, "[") {
		return k
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(k, '[')
		if i < 0 {
			b.WriteString(k)
			return b.String()
		}
		j := strings.IndexByte(k[i:], ']')
		if j < 0 {
			b.WriteString(k)
			return b.String()
		}
		b.WriteString(k[:i])
		k = k[i+j+1:]
	}
}

// unquoteKey turns a dotted key as BurntSushi/toml writes it (each part
// bare or double-quoted with escapes) into a key as this package names it:
// its parts joined by dots, unquoted.
func unquoteKey(k string) string {
	var parts []string
	for k != "" {
		if k[0] == '"' {
			end := 1
			for end < len(k) && k[end] != '"' {
				if k[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(k))
			part, err := strconv.Unquote(k[:end])
			if err != nil {
				part = k[:end]
			}
			parts = append(parts, part)
			k = strings.TrimPrefix(k[end:], ".")
			continue
		}
		part, rest, _ := strings.Cut(k, ".")
		parts = append(parts, part)
		k = rest
	}
	return strings.Join(parts, ".")
}
