package daemon

import (
	"strings"
)

// locator finds the line and column of a key in TOML text, so that errors
// found after decoding (missing keys, duplicates, cross-field checks) still
// name their place. It understands [table], [[array]] headers, bare and
// dotted keys and skips multi-line strings; it is a locator, not a parser.
type locator struct {
	keys    map[locKey]pos
	headers map[locKey]pos // table header line per (table, occurrence)
}

type locKey struct {
	path string // "table.key" or "key"
	idx  int    // occurrence of the [[table]], -1 for plain tables
}

type pos struct{ line, col int }

func newLocator(data []byte) *locator {
	l := &locator{keys: map[locKey]pos{}, headers: map[locKey]pos{}}
	table, idx := "", -1
	count := map[string]int{}
	inMulti := ""
	for n, raw := range strings.Split(string(data), "\n") {
		line := n + 1
		s := strings.TrimSpace(raw)
		col := len(raw) - len(strings.TrimLeft(raw, " \t")) + 1
		if inMulti != "" {
			if strings.Contains(s, inMulti) {
				inMulti = ""
			}
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "[[") {
			name := strings.TrimSpace(strings.Trim(cutComment(s), "[] \t"))
			table, idx = name, count[name]
			count[name]++
			l.headers[locKey{table, idx}] = pos{line, col}
			continue
		}
		if s[0] == '[' {
			table, idx = strings.TrimSpace(strings.Trim(cutComment(s), "[] \t")), -1
			l.headers[locKey{table, idx}] = pos{line, col}
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			continue
		}
		key := strings.TrimSpace(s[:eq])
		key = strings.ReplaceAll(strings.ReplaceAll(key, " ", ""), "\"", "")
		path := key
		if table != "" {
			path = table + "." + key
		}
		if _, dup := l.keys[locKey{path, idx}]; !dup {
			l.keys[locKey{path, idx}] = pos{line, col}
		}
		val := strings.TrimSpace(s[eq+1:])
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
				inMulti = q
			}
		}
	}
	return l
}

func cutComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// find returns the place of key (dotted) in occurrence idx of its table
// array (-1: not an array). A key that is absent falls back to its table's
// header; an unknown place is line 0.
func (l *locator) find(key string, idx int) pos {
	if p, ok := l.keys[locKey{key, idx}]; ok {
		return p
	}
	if idx < 0 {
		// Undecoded keys carry no array index: take the first occurrence.
		for i := 0; i < 1<<16; i++ {
			p, ok := l.keys[locKey{key, i}]
			if ok {
				return p
			}
			if _, ok := l.headers[locKey{tablePart(key), i}]; !ok {
				break
			}
		}
	}
	if p, ok := l.headers[locKey{tablePart(key), idx}]; ok {
		return p
	}
	if p, ok := l.headers[locKey{key, idx}]; ok {
		return p
	}
	return pos{}
}

func tablePart(key string) string {
	if i := strings.LastIndexByte(key, '.'); i > 0 {
		return key[:i]
	}
	return ""
}
