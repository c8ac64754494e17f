package emulator

import (
	"path"
	"strings"
)

// NameFilter is how DescribeWorkflowExecutions' undocumented "name" filter
// matches (the documentation says only "file name"). Each plausible
// reading can be served, so that a client can be shown not to depend on
// one.
type NameFilter string

// The name filter's behaviours.
const (
	// NameKey matches instances whose object key is the name (the default).
	NameKey NameFilter = ""
	// NameBase matches instances whose key's base name (after the last
	// '/') is the name: a full key with a folder matches nothing.
	NameBase NameFilter = "base"
	// NameSubstring matches instances whose key contains the name.
	NameSubstring NameFilter = "substring"
	// NameIgnored ignores the filter: every instance of the workflow.
	NameIgnored NameFilter = "ignored"
)

// byName returns the instances of workflow wf that the name filter
// matches, in creation order. The caller holds s.exec.mu.
func (s *Server) byName(wf, name string) []*instance {
	switch s.cfg.NameFilter {
	case NameKey:
		return s.exec.byKey[TriggerKey{wf, name}]
	case NameIgnored:
		return s.exec.byWorkflow[wf]
	}
	var out []*instance
	for _, in := range s.exec.byWorkflow[wf] {
		if s.nameMatches(in.key, name) {
			out = append(out, in)
		}
	}
	return out
}

// nameMatches says whether the name filter name matches the object key.
func (s *Server) nameMatches(key, name string) bool {
	switch s.cfg.NameFilter {
	case NameBase:
		return path.Base(key) == name
	case NameSubstring:
		return strings.Contains(key, name)
	case NameIgnored:
		return true
	}
	return key == name
}
