package manifest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/wftrigger/wftrigger/tencent"
)

// Lister lists one page of the bucket; *tencent.Client satisfies it.
type Lister interface {
	ListObjects(ctx context.Context, in tencent.ListInput) (tencent.ListPage, error)
}

// ListingOptions tunes NewListing.
type ListingOptions struct {
	PageSize int // max-keys of each page; 0 means 1000
	Ahead    int // pages fetched ahead of the consumer; 0 means 2
	// Retry runs call under the caller's retry policy; nil calls it once.
	Retry func(ctx context.Context, op string, call func(ctx context.Context) error) error
}

// listing is the Source of a bucket listing. A goroutine fetches pages
// ahead of the consumer through a channel of Ahead pages, so rows flow
// while the listing goes on and memory holds at most Ahead+2 pages.
type listing struct {
	label  string
	prefix string
	pages  chan pageOrErr
	cancel context.CancelFunc
	wg     sync.WaitGroup

	stopped error // why the goroutine ended early; read after pages is closed

	cur  []tencent.ObjectInfo
	err  error // sticky: the listing failed, or io.EOF
	stop sync.Once
}

type pageOrErr struct {
	objects []tencent.ObjectInfo
	err     error
}

// NewListing returns a Source of the objects under prefix, in the bucket's
// key order. Folder placeholders (keys ending in '/') are skipped; keys are
// checked with CheckKey. Listing stops when ctx is done or the Source is
// closed; Close waits for the listing goroutine to end.
func NewListing(ctx context.Context, lister Lister, prefix string, opts ListingOptions) Source {
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Ahead <= 0 {
		opts.Ahead = 2
	}
	if opts.Retry == nil {
		opts.Retry = func(ctx context.Context, _ string, call func(ctx context.Context) error) error { return call(ctx) }
	}
	ctx, cancel := context.WithCancel(ctx)
	label := "prefix " + prefix
	if prefix == "" {
		label = `prefix "" (the whole bucket)`
	}
	s := &listing{label: label, prefix: prefix, pages: make(chan pageOrErr, opts.Ahead), cancel: cancel}
	if prefix == "" {
		s.label = `prefix ""`
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.pages)
		if !s.list(ctx, lister, prefix, opts) {
			s.stopped = ctx.Err()
		}
	}()
	return s
}

// list fetches the pages and sends them, in order, until the last one or an
// error; it returns false when ctx ended first.
func (s *listing) list(ctx context.Context, lister Lister, prefix string, opts ListingOptions) bool {
	in := tencent.ListInput{Prefix: prefix, MaxKeys: opts.PageSize}
	for {
		var page tencent.ListPage
		err := opts.Retry(ctx, "list", func(ctx context.Context) error {
			var err error
			page, err = lister.ListObjects(ctx, in)
			return err
		})
		if err == nil && page.IsTruncated {
			next := page.NextMarker
			if next == "" && len(page.Objects) > 0 {
				next = page.Objects[len(page.Objects)-1].Key
			}
			if next == "" || next <= in.Marker {
				err = fmt.Errorf("the page after marker %q is truncated but names no later marker", in.Marker)
			}
			in.Marker = next
		}
		if err != nil && ctx.Err() != nil {
			return false
		}
		if err != nil {
			err = fmt.Errorf("list prefix %q: %w", s.prefix, err)
		}
		select {
		case s.pages <- pageOrErr{objects: page.Objects, err: err}:
		case <-ctx.Done():
			return false
		}
		if err != nil || !page.IsTruncated {
			return true
		}
	}
}

// Name is the source's name for the report, e.g. "prefix videos/".
func (s *listing) Name() string { return s.label }

// Next returns the next listed object.
func (s *listing) Next(ctx context.Context) (Row, error) {
	for {
		if s.err != nil {
			return Row{}, s.err
		}
		for len(s.cur) > 0 {
			o := s.cur[0]
			s.cur = s.cur[1:]
			if strings.HasSuffix(o.Key, "/") {
				continue
			}
			row := rowFor(s.label, 0, o.Key, "", "")
			row.LastModified = o.LastModified
			return row, nil
		}
		select {
		case p, ok := <-s.pages:
			switch {
			case !ok:
				s.err = io.EOF
				if s.stopped != nil {
					s.err = fmt.Errorf("list prefix %q: %w", s.prefix, s.stopped)
				}
			case p.err != nil:
				s.err = p.err
			default:
				s.cur = p.objects
			}
		case <-ctx.Done():
			return Row{}, ctx.Err()
		}
	}
}

// Close stops the listing and waits for its goroutine.
func (s *listing) Close() error {
	s.stop.Do(func() {
		s.cancel()
		s.wg.Wait()
		if s.err == nil {
			s.err = fmt.Errorf("list prefix %q: closed", s.prefix)
		}
	})
	return nil
}
