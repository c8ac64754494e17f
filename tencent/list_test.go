package tencent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestListObjects(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cos-Request-Id", "list-req")
		io.WriteString(w, `<?xml version='1.0' encoding='utf-8' ?>
<ListBucketResult>
	<Name>examplebucket-1250000000</Name>
	<EncodingType>url</EncodingType>
	<Prefix>media%2F</Prefix>
	<Marker/>
	<MaxKeys>2</MaxKeys>
	<Delimiter>%2F</Delimiter>
	<IsTruncated>true</IsTruncated>
	<NextMarker>media/my%20video%2Bfinal%20100%25/%E8%A7%86%E9%A2%91%201.mp4</NextMarker>
	<CommonPrefixes><Prefix>media/sub%20dir/</Prefix></CommonPrefixes>
	<Contents>
		<Key>media/a%2Bb.mp4</Key>
		<LastModified>2018-10-18T07:08:03.000Z</LastModified>
		<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
		<Size>1024</Size>
		<Owner><ID>1250000000</ID><DisplayName>1250000000</DisplayName></Owner>
		<StorageClass>STANDARD</StorageClass>
	</Contents>
	<Contents>
		<Key>media/my%20video%2Bfinal%20100%25/%E8%A7%86%E9%A2%91%201.mp4</Key>
		<LastModified>2024-01-02T03:04:05Z</LastModified>
		<ETag>"x"</ETag>
		<Size>7</Size>
		<StorageClass>ARCHIVE</StorageClass>
	</Contents>
</ListBucketResult>`)
	})
	c := newTestClient(t, f.URL, testCreds)
	in := ListInput{Prefix: "media/", Marker: "media/0 0", Delimiter: "/", MaxKeys: 2}
	page, err := c.ListObjects(context.Background(), in)
	if err != nil {
		t.Fatalf("ListObjects(%+v): %v", in, err)
	}
	want := ListPage{
		Objects: []ObjectInfo{
			{Key: "media/a+b.mp4", Size: 1024, LastModified: time.Date(2018, 10, 18, 7, 8, 3, 0, time.UTC), ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, StorageClass: "STANDARD"},
			{Key: "media/my video+final 100%/视频 1.mp4", Size: 7, LastModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ETag: `"x"`, StorageClass: "ARCHIVE"},
		},
		CommonPrefixes: []string{"media/sub dir/"},
		IsTruncated:    true,
		NextMarker:     "media/my video+final 100%/视频 1.mp4",
		RequestID:      "list-req",
	}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("ListObjects(%+v) =\n%+v\nwant\n%+v", in, page, want)
	}
	got := f.last(t)
	if wantQ := "delimiter=%2F&encoding-type=url&marker=media%2F0%200&max-keys=2&prefix=media%2F"; got.rawQuery != wantQ {
		t.Errorf("ListObjects query = %q, want %q", got.rawQuery, wantQ)
	}
	if got.method != "GET" || got.path != "/" {
		t.Errorf("ListObjects request = %s %s, want GET /", got.method, got.path)
	}
}

func TestListObjectsNextMarkerFallback(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>a</Key></Contents><Contents><Key>b%20c</Key></Contents></ListBucketResult>`)
	})
	c := newTestClient(t, f.URL, testCreds)
	page, err := c.ListObjects(context.Background(), ListInput{})
	if err != nil {
		t.Fatal(err)
	}
	if page.NextMarker != "b c" {
		t.Errorf("NextMarker = %q, want the last key %q", page.NextMarker, "b c")
	}
	if got := f.last(t).rawQuery; got != "encoding-type=url" {
		t.Errorf("query = %q, want encoding-type=url", got)
	}
}

func TestListObjectsErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"no such bucket", 404, `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist.</Message></Error>`,
			func(err error) bool { return ClassOf(err) == Fatal }},
		{"bad xml", 200, `<ListBucketResult><Contents>`, func(err error) bool { var te *TransportError; return errors.As(err, &te) }},
		{"bad escape", 200, `<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%zz</Key></Contents></ListBucketResult>`,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "a%zz") }},
		{"bad time", 200, `<ListBucketResult><Contents><Key>a</Key><LastModified>yesterday</LastModified></Contents></ListBucketResult>`,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "LastModified") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := newTestClient(t, f.URL, testCreds)
			if _, err := c.ListObjects(context.Background(), ListInput{}); !tt.check(err) {
				t.Errorf("ListObjects(body %q) error = %v", tt.body, err)
			}
		})
	}
}

// executionPages serves three pages of DescribeWorkflowExecutions; only
// one item on page 2 is an exact match for key.
func executionPages(key string) http.HandlerFunc {
	item := func(run, obj string) string {
		return `<WorkflowExecutionList><RunId>` + run + `</RunId><WorkflowId>w1</WorkflowId><State>Success</State>` +
			`<CreateTime>2022-08-09T14:54:17+08:00</CreateTime><Object>` + obj + `</Object></WorkflowExecutionList>`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var body string
		switch r.URL.Query().Get("nextToken") {
		case "":
			body = item("r1", key+".bak") + item("r2", "x/"+key) + `<NextToken>p2</NextToken>`
		case "p2":
			body = item("r3", key+" ") + item("r4", key) + item("r5", key) + `<NextToken>p3</NextToken>`
		case "p3":
			body = item("r6", "other") + `<NextToken></NextToken>`
		default:
			w.WriteHeader(400)
			return
		}
		io.WriteString(w, `<Response><RequestId>req-`+r.URL.Query().Get("nextToken")+`</RequestId>`+body+`</Response>`)
	}
}

func TestListExecutions(t *testing.T) {
	key := "media/a b+c.mp4"
	f := newFake(t, testCreds, executionPages(key))
	c := newTestClient(t, f.URL, testCreds)
	start := time.Date(2026, 11, 27, 1, 0, 0, 0, time.FixedZone("CST", 8*3600))
	page, err := c.ListExecutions(context.Background(), ExecutionQuery{WorkflowID: "w1", Name: key, Start: start, End: start.Add(time.Hour), States: "Success,Failed"})
	if err != nil {
		t.Fatal(err)
	}
	want := ExecutionPage{
		Executions: []ExecutionSummary{
			{RunID: "r1", WorkflowID: "w1", State: "Success", Object: key + ".bak", CreateTime: time.Date(2022, 8, 9, 6, 54, 17, 0, time.UTC)},
			{RunID: "r2", WorkflowID: "w1", State: "Success", Object: "x/" + key, CreateTime: time.Date(2022, 8, 9, 6, 54, 17, 0, time.UTC)},
		},
		NextToken: "p2",
		RequestID: "req-",
	}
	for i := range page.Executions {
		if !page.Executions[i].CreateTime.Equal(want.Executions[i].CreateTime) {
			t.Errorf("item %d CreateTime = %v, want %v", i, page.Executions[i].CreateTime, want.Executions[i].CreateTime)
		}
		page.Executions[i].CreateTime = want.Executions[i].CreateTime
	}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("ListExecutions = %+v, want %+v", page, want)
	}
	got := f.last(t)
	wantQ := "workflowId=w1&name=media%2Fa%20b%2Bc.mp4&startCreationTime=2026-11-27T01%3A00%3A00%2B0800&endCreationTime=2026-11-27T02%3A00%3A00%2B0800&states=Success%2CFailed&size=100"
	if got.rawQuery != wantQ {
		t.Errorf("ListExecutions query =\n%s\nwant\n%s", got.rawQuery, wantQ)
	}
	if got.path != "/workflowexecution" {
		t.Errorf("path = %q, want /workflowexecution", got.path)
	}
}

func TestFindExecution(t *testing.T) {
	key := "media/a b+c.mp4"
	f := newFake(t, testCreds, executionPages(key))
	c := newTestClient(t, f.URL, testCreds)
	since := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		key      string
		found    bool
		run      string
		nqueries int
	}{
		{key, true, "r4", 2},
		{"absent.mp4", false, "", 3},
	}
	for _, tt := range tests {
		f.mu.Lock()
		f.reqs = nil
		f.mu.Unlock()
		x, found, err := c.FindExecution(context.Background(), "w1", tt.key, since)
		if err != nil || found != tt.found || x.RunID != tt.run {
			t.Errorf("FindExecution(%q) = %+v, %v, %v; want run %q found %v", tt.key, x, found, err, tt.run, tt.found)
		}
		if len(f.reqs) != tt.nqueries {
			t.Errorf("FindExecution(%q) made %d calls, want %d", tt.key, len(f.reqs), tt.nqueries)
		}
		for _, r := range f.reqs {
			if r.query.Get("name") != tt.key || r.query.Get("workflowId") != "w1" || r.query.Get("size") != "100" ||
				r.query.Get("startCreationTime") != "2026-11-27T01:00:00+0000" {
				t.Errorf("FindExecution(%q) query = %q", tt.key, r.rawQuery)
			}
		}
	}
}

func TestFindExecutionPageCap(t *testing.T) {
	n := 0
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		n++
		fmt.Fprintf(w, `<Response><NextToken>t%d</NextToken></Response>`, n)
	})
	c := newTestClient(t, f.URL, testCreds)
	_, found, err := c.FindExecution(context.Background(), "w1", "k", time.Time{})
	if found || !errors.Is(err, errTooManyPages) {
		t.Errorf("FindExecution(endless pages) = %v, %v; want errTooManyPages", found, err)
	}
	if n != maxFindPages {
		t.Errorf("FindExecution read %d pages, want %d", n, maxFindPages)
	}
}

func TestDescribeExecution(t *testing.T) {
	tests := []struct {
		name, nameTag string
	}{
		{"WorkflowName tag", "WorkflowName"},
		{"Name tag (doc sample)", "Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `<Response><RequestId>req-1</RequestId><WorkflowExecution>
<RunId>i6fc78ca77d6011eba0ac5254008618d9=</RunId><WorkflowId>w1</WorkflowId>
<`+tt.nameTag+`>my-flow</`+tt.nameTag+`><State>Failed</State><CreateTime>2022-08-09T14:54:17+08:00</CreateTime>
<Object>wk-test/game.mp4</Object>
<Topology><Dependencies/></Topology>
<Tasks><Type>Transcode</Type><State>Success</State><JobId>j1</JobId><CreateTime>c1</CreateTime><StartTime>s1</StartTime><EndTime>e1</EndTime><Code>Success</Code><Message></Message><Name>Transcode_1</Name></Tasks>
<Tasks><Type>Snapshot</Type><State>Failed</State><JobId>j2</JobId><Code>InternalError</Code><Message>boom</Message><Name>Snapshot_1</Name></Tasks>
</WorkflowExecution></Response>`)
			})
			c := newTestClient(t, f.URL, testCreds)
			ex, err := c.DescribeExecution(context.Background(), "i6fc78ca77d6011eba0ac5254008618d9=")
			if err != nil {
				t.Fatal(err)
			}
			want := Execution{
				RunID: "i6fc78ca77d6011eba0ac5254008618d9=", WorkflowID: "w1", WorkflowName: "my-flow", State: "Failed",
				Object: "wk-test/game.mp4", CreateTime: ex.CreateTime, RequestID: "req-1",
				Tasks: []Task{
					{Type: "Transcode", State: "Success", JobID: "j1", Code: "Success", Name: "Transcode_1", CreateTime: "c1", StartTime: "s1", EndTime: "e1"},
					{Type: "Snapshot", State: "Failed", JobID: "j2", Code: "InternalError", Message: "boom", Name: "Snapshot_1"},
				},
			}
			if !reflect.DeepEqual(ex, want) {
				t.Errorf("DescribeExecution =\n%+v\nwant\n%+v", ex, want)
			}
			if !ex.CreateTime.Equal(time.Date(2022, 8, 9, 6, 54, 17, 0, time.UTC)) {
				t.Errorf("CreateTime = %v", ex.CreateTime)
			}
			if got := f.last(t); got.path != "/workflowexecution/i6fc78ca77d6011eba0ac5254008618d9=" {
				t.Errorf("path = %q", got.path)
			}
		})
	}
}

func TestDescribeExecutionEmpty(t *testing.T) {
	f := newFake(t, testCreds, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<Response><RequestId>r</RequestId></Response>`)
	})
	c := newTestClient(t, f.URL, testCreds)
	if _, err := c.DescribeExecution(context.Background(), "i1"); err == nil {
		t.Error("DescribeExecution(empty answer): no error")
	}
}
