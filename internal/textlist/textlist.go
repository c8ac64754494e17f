// Package textlist parses the comma-separated lists of command-line flags.
package textlist

import "strings"

// Split returns the items of a comma-separated list, each trimmed of
// surrounding space, without empty items; nil for a list with none.
func Split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
