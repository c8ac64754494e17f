package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/tencent"
)

// fakeLister serves pages of keys; page i starts after the last key of
// page i-1.
type fakeLister struct {
	pages        [][]string
	noNextMarker bool                  // leave NextMarker empty, like COS without a delimiter
	failures     map[int]int           // page → calls that fail before it is served
	wait         map[int]chan struct{} // page → served once the channel is closed
	blockForever int                   // page that blocks until ctx ends (0: none)

	mu       sync.Mutex
	calls    int
	inFlight int
	inputs   []tencent.ListInput
}

var errList = errors.New("connection reset")

func (l *fakeLister) ListObjects(ctx context.Context, in tencent.ListInput) (tencent.ListPage, error) {
	l.mu.Lock()
	l.calls++
	l.inFlight++
	l.inputs = append(l.inputs, in)
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.inFlight--
		l.mu.Unlock()
	}()
	i := 0
	if in.Marker != "" {
		for i = 0; i < len(l.pages); i++ {
			if p := l.pages[i]; len(p) > 0 && p[len(p)-1] == in.Marker {
				i++
				break
			}
		}
	}
	if i >= len(l.pages) {
		return tencent.ListPage{}, fmt.Errorf("no page after marker %q", in.Marker)
	}
	if l.blockForever == i && i > 0 {
		<-ctx.Done()
		return tencent.ListPage{}, ctx.Err()
	}
	if ch := l.wait[i]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return tencent.ListPage{}, ctx.Err()
		}
	}
	l.mu.Lock()
	fail := l.failures[i] > 0
	if fail {
		l.failures[i]--
	}
	l.mu.Unlock()
	if fail {
		return tencent.ListPage{}, errList
	}
	page := tencent.ListPage{IsTruncated: i < len(l.pages)-1}
	for _, k := range l.pages[i] {
		page.Objects = append(page.Objects, tencent.ObjectInfo{Key: k, LastModified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	if page.IsTruncated && !l.noNextMarker {
		page.NextMarker = l.pages[i][len(l.pages[i])-1]
	}
	return page, nil
}

func fivePages() [][]string {
	return [][]string{
		{"v/", "v/a.mp4", "v/b.mp4"},
		{"v/c.mp4", "v/d/", "v/d/e.mp4"},
		{"v/f.mp4"},
		{"v/g.mp4", "v/h.mp4"},
		{"v/i.mp4", "v/z/"},
	}
}

const fivePagesWant = `L0 "v/a.mp4"; L0 "v/b.mp4"; L0 "v/c.mp4"; L0 "v/d/e.mp4"; L0 "v/f.mp4"; L0 "v/g.mp4"; L0 "v/h.mp4"; L0 "v/i.mp4"`

func TestListingPages(t *testing.T) {
	for _, noNext := range []bool{false, true} {
		t.Run(fmt.Sprintf("noNextMarker=%v", noNext), func(t *testing.T) {
			l := &fakeLister{pages: fivePages(), noNextMarker: noNext}
			src := NewListing(context.Background(), l, "v/", ListingOptions{PageSize: 3})
			defer src.Close()
			rows := readAll(t, src)
			if got := briefs(rows); got != fivePagesWant {
				t.Errorf("rows =\n  %s\nwant\n  %s", got, fivePagesWant)
			}
			if rows[0].LastModified.IsZero() {
				t.Errorf("LastModified is zero, want the listed time")
			}
			if l.calls != 5 {
				t.Errorf("ListObjects calls = %d, want 5", l.calls)
			}
			for i, in := range l.inputs {
				if in.Prefix != "v/" || in.MaxKeys != 3 {
					t.Errorf("call %d input = %+v, want prefix v/ and max-keys 3", i, in)
				}
			}
			if got := l.inputs[2].Marker; got != "v/d/e.mp4" {
				t.Errorf("third call marker = %q, want %q", got, "v/d/e.mp4")
			}
		})
	}
}

func TestListingInvalidKeys(t *testing.T) {
	l := &fakeLister{pages: [][]string{{"\\a", "a\x1b", "b"}}}
	src := NewListing(context.Background(), l, "", ListingOptions{})
	defer src.Close()
	want := `L0 "\\a" !LeadingBackslash; L0 "a\x1b" !InvalidChar; L0 "b"`
	rows := readAll(t, src)
	if got := briefs(rows); got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	if msg, want := rows[0].Invalid.Message, `prefix "": key starts with '\'`; msg != want {
		t.Errorf("message = %q, want %q", msg, want)
	}
}

func TestListingError(t *testing.T) {
	l := &fakeLister{pages: fivePages(), failures: map[int]int{2: 100}}
	src := NewListing(context.Background(), l, "videos/", ListingOptions{})
	defer src.Close()
	rows, err := readAllErr(src)
	if !errors.Is(err, errList) || !strings.HasPrefix(err.Error(), `list prefix "videos/": `) {
		t.Errorf("error = %v, want list prefix \"videos/\": %v", err, errList)
	}
	if len(rows) != 4 {
		t.Errorf("rows before the error = %d, want 4", len(rows))
	}
	if _, err2 := src.Next(context.Background()); err2 != err {
		t.Errorf("Next after the error = %v, want %v", err2, err)
	}
}

func TestListingRetry(t *testing.T) {
	l := &fakeLister{pages: fivePages(), failures: map[int]int{0: 1, 3: 2}}
	var ops []string
	retry := func(ctx context.Context, op string, call func(ctx context.Context) error) error {
		ops = append(ops, op)
		var err error
		for range 3 {
			if err = call(ctx); err == nil {
				return nil
			}
		}
		return err
	}
	src := NewListing(context.Background(), l, "v/", ListingOptions{Retry: retry})
	rows := readAll(t, src)
	src.Close()
	if got := briefs(rows); got != fivePagesWant {
		t.Errorf("rows =\n  %s\nwant\n  %s", got, fivePagesWant)
	}
	if len(ops) != 5 || ops[0] != "list" {
		t.Errorf("retry ops = %q, want 5 times list", ops)
	}
	if l.calls != 8 {
		t.Errorf("ListObjects calls = %d, want 8", l.calls)
	}
}

func TestListingStreams(t *testing.T) {
	// Page 2 is served only after the consumer has a row of page 1: a
	// listing that waited for all pages would never return.
	gotRow := make(chan struct{})
	l := &fakeLister{pages: fivePages(), wait: map[int]chan struct{}{1: gotRow}}
	src := NewListing(context.Background(), l, "v/", ListingOptions{Ahead: 1})
	defer src.Close()
	row, err := src.Next(context.Background())
	if err != nil || row.Key != "v/a.mp4" {
		t.Fatalf("Next() = %q, %v, want v/a.mp4", row.Key, err)
	}
	close(gotRow)
	rows := append([]Row{row}, readAll(t, src)...)
	if got := briefs(rows); got != fivePagesWant {
		t.Errorf("rows =\n  %s\nwant\n  %s", got, fivePagesWant)
	}
}

func TestListingCloseMidway(t *testing.T) {
	l := &fakeLister{pages: fivePages(), blockForever: 3}
	src := NewListing(context.Background(), l, "v/", ListingOptions{Ahead: 1})
	if _, err := src.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	// Close waited for the goroutine: no call is still running, and none starts.
	l.mu.Lock()
	inFlight, calls := l.inFlight, l.calls
	l.mu.Unlock()
	if inFlight != 0 {
		t.Errorf("ListObjects calls still running after Close = %d, want 0", inFlight)
	}
	if _, err := src.Next(context.Background()); err == nil || err == io.EOF {
		t.Errorf("Next after Close = %v, want an error", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls != calls {
		t.Errorf("ListObjects called after Close")
	}
}

func TestListingCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &fakeLister{pages: fivePages(), blockForever: 2}
	src := NewListing(ctx, l, "v/", ListingOptions{Ahead: 1})
	defer src.Close()
	for range 4 { // the rows of pages 1 and 2
		if _, err := src.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	_, err := src.Next(context.Background())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Next after the listing's context ended = %v, want %v (not io.EOF)", err, context.Canceled)
	}
}

func TestListingConsumerCanceled(t *testing.T) {
	l := &fakeLister{pages: fivePages(), blockForever: 1}
	src := NewListing(context.Background(), l, "v/", ListingOptions{})
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	for range 2 {
		if _, err := src.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(canceled) = %v, want %v", err, context.Canceled)
	}
}

func TestListingNoProgress(t *testing.T) {
	l := &stuckLister{}
	src := NewListing(context.Background(), l, "v/", ListingOptions{})
	defer src.Close()
	_, err := readAllErr(src)
	if err == nil || !strings.Contains(err.Error(), "truncated but names no later marker") {
		t.Errorf("error = %v, want a truncated page without a marker", err)
	}
}

// stuckLister answers a truncated page without keys or marker.
type stuckLister struct{}

func (stuckLister) ListObjects(context.Context, tencent.ListInput) (tencent.ListPage, error) {
	return tencent.ListPage{IsTruncated: true}, nil
}
