package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wftrigger/wftrigger/internal/atomicfile"
	"github.com/wftrigger/wftrigger/manifest"
)

// planList is the file of `run --dry-run --list FILE`: the objects the run
// would trigger, as a JSONL manifest, written as they are read (memory does
// not grow with them) to a temporary file beside FILE, which commit renames
// over FILE once the whole source was read: FILE is never half a plan.
type planList struct {
	path string
	f    *atomicfile.File
	w    *manifest.JSONLWriter
	n    int
}

func createPlanList(path string) (*planList, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--list %s: %w", path, err)
	}
	return &planList{path: path, f: f, w: manifest.NewJSONLWriter(f)}, nil
}

// add writes the line of row.
func (l *planList) add(row manifest.Row) error {
	l.n++
	if err := l.w.Write(row); err != nil {
		return fmt.Errorf("--list %s: %w", l.path, err)
	}
	return nil
}

// commit makes the list durable and puts it at its path.
func (l *planList) commit() error {
	err := l.w.Flush()
	if err != nil {
		l.f.Abort()
	} else {
		err = l.f.Commit()
	}
	if err != nil {
		return fmt.Errorf("--list %s: %w", l.path, err)
	}
	return nil
}

// abort removes the unfinished list (nothing, once committed).
func (l *planList) abort() { l.f.Abort() }

// checkOutputFolders refuses, before any work, a --list whose folder does
// not exist (the report's folder is created instead), or that names the
// source or the report; newRunMetrics checks the --metrics-file.
func checkOutputFolders(o runOptions) error {
	if o.list != "" {
		if err := checkFolder("--list", o.list); err != nil {
			return err
		}
		for _, other := range []struct{ flag, path string }{{"--manifest", o.manifest}, {"--report", o.reportPath}} {
			if sameFile(o.list, other.path) {
				return usageError("--list plan.jsonl: a new file, to compare with the source", "--list %s is the %s: the plan would replace it", o.list, other.flag)
			}
		}
	}
	return nil
}

// sameFile reports whether a and b name one existing file.
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// checkFolder returns a usage error when the folder of the file that flag
// names does not exist: found at the start, not when the file is written.
func checkFolder(flag, path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usageError("mkdir -p "+quoteArgs([]string{dir})[0]+" first, or give "+flag+" a path in a folder that exists", "%s %s: folder %s does not exist", flag, path, dir)
	case err != nil:
		return usageError("give "+flag+" a path in a folder that exists", "%s %s: %v", flag, path, err)
	case !fi.IsDir():
		return usageError("give "+flag+" a path in a folder that exists", "%s %s: %s is not a folder", flag, path, dir)
	}
	return nil
}
