package runner

import (
	"context"
	"io"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// Admitter is the part of a Ledger a dry run needs.
type Admitter interface {
	Admit(workflowID, key string) report.Prior
}

// Survey is what a run would do with a source, learned without calling CI.
type Survey struct {
	Rows         int      // rows read
	WouldTrigger int      // objects a run would trigger (or look up first)
	Uncertain    int      // of which would be looked up in the execution list first
	Invalid      int      // rows that would be reported invalid
	Duplicates   int      // repeats of an object already read
	Done         int      // objects that already succeeded in the report
	First        []string // the first keys that would be triggered, at most 10
}

// Plan reads the whole source and says what Run would do with it; with
// limit > 0 it stops, as Run would, once limit objects would be triggered.
func Plan(ctx context.Context, src manifest.Source, ledger Admitter, workflow string, limit int) (Survey, error) {
	var s Survey
	for {
		if limit > 0 && s.WouldTrigger >= limit {
			return s, nil
		}
		row, err := src.Next(ctx)
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.Rows++
		wf := row.WorkflowID
		if wf == "" {
			wf = workflow
		}
		if row.Invalid != nil || wf == "" {
			s.Invalid++
			continue
		}
		switch ledger.Admit(wf, row.Key).State {
		case report.Duplicate:
			s.Duplicates++
			continue
		case report.Done:
			s.Done++
			continue
		case report.Uncertain:
			s.Uncertain++
		}
		s.WouldTrigger++
		if len(s.First) < 10 {
			s.First = append(s.First, row.Key)
		}
	}
}
