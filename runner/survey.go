package runner

import (
	"context"
	"io"

	"github.com/wftrigger/wftrigger/manifest"
	"github.com/wftrigger/wftrigger/report"
)

// Admitter is the part of a Ledger that admission (and a dry run) needs.
type Admitter interface {
	Admit(workflowID, key string) report.Prior
}

// Survey is what a run would do with a source, learned without calling CI.
type Survey struct {
	Rows         int      // rows read (after the source's filters)
	WouldTrigger int      // objects a run would trigger (or look up first)
	Uncertain    int      // of which would be looked up in the execution list first
	BeyondLimit  int      // objects left for later runs by Config.Limit
	Invalid      int      // rows that would be reported invalid
	Duplicates   int      // repeats of an object already read
	Done         int      // objects that already succeeded in the report
	First        []string // the first keys that would be triggered, at most 10
}

// Plan reads the whole source and says what Run, with cfg's workflow,
// bucket and limit, would do with it.
func Plan(ctx context.Context, cfg Config, src manifest.Source, ledger Admitter) (Survey, error) {
	var s Survey
	for {
		row, err := src.Next(ctx)
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.Rows++
		obj, v := admit(cfg, ledger, row)
		switch {
		case v == verdictInvalid:
			s.Invalid++
		case v == verdictDuplicate:
			s.Duplicates++
		case v == verdictDone:
			s.Done++
		case cfg.Limit > 0 && s.WouldTrigger >= cfg.Limit:
			s.BeyondLimit++
		default:
			if obj.prior.State == report.Uncertain {
				s.Uncertain++
			}
			s.WouldTrigger++
			if cfg.Planned != nil {
				if err := cfg.Planned(obj.row); err != nil {
					return s, err
				}
			}
			if len(s.First) < 10 {
				s.First = append(s.First, obj.row.Key)
			}
		}
	}
}
