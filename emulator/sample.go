package emulator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SampleKeys returns n distinct, realistic video keys, the same for the same
// seed. Some hold spaces, '+', '%' (including a literal "%20"), '&', '=',
// Chinese characters and nested folders; a few are not videos (.jpg, .txt),
// for suffix filters. None starts or ends with '/'.
func SampleKeys(n int, seed int64) []string {
	dirs := []string{
		"videos/2024/01/", "videos/2024/02/", "videos/2025/11/",
		"uploads/user-1042/", "uploads/user 77/",
		"raw footage/day 1/", "媒体/宣传片/", "media/my video+final 100%/",
		"archive/2019/Q4/", "live/replays/", "shorts/", "",
	}
	bases := []string{
		"clip", "interview", "宣传片", "my video+final", "100% raw", "trailer (final)",
		"scene", "vlog", "教程 第", "视频", "match highlights", "odd%20name", "q&a=1",
	}
	exts := []string{".mp4", ".mp4", ".mp4", ".mov", ".mkv", ".flv", ".ts", ".m4v", ".avi", ".MP4", ".jpg", ".txt"}
	seps := []string{" ", "_", "-", "+", ""}

	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	keys := make([]string, n)
	var b strings.Builder
	for i := range keys {
		b.Reset()
		b.WriteString(dirs[r.IntN(len(dirs))])
		if r.IntN(4) == 0 {
			fmt.Fprintf(&b, "batch-%02d/", r.IntN(12))
		}
		b.WriteString(bases[r.IntN(len(bases))])
		b.WriteString(seps[r.IntN(len(seps))])
		fmt.Fprintf(&b, "%05d", i)
		b.WriteString(exts[r.IntN(len(exts))])
		keys[i] = b.String()
	}
	return keys
}

// PutSample stores keys as small objects whose LastModified times are
// spread from start on, seven minutes apart in key order.
func (s *Server) PutSample(keys []string, start time.Time) {
	for i, k := range keys {
		body := fmt.Appendf(nil, "sample video %d: %s\n", i, k)
		s.PutObject(k, body, start.Add(time.Duration(i)*7*time.Minute))
	}
}
