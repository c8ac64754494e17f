package manifest

import (
	"bytes"
	"os"
	"strings"
)

// EstimateRows guesses how many rows the manifest at path holds, for a
// progress total: the lines of a plain local CSV, JSONL or text file (less
// a CSV's header line), 0 when it cannot tell cheaply (standard input, a
// gzip file, an inventory, cos://, a file it cannot read). format is
// --format, "" to go by the name.
func EstimateRows(path, format string) int64 {
	f, err := FormatOf(path, format)
	if err != nil || path == "-" || strings.HasSuffix(path, ".gz") || f == FormatInventory {
		return 0
	}
	file, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer file.Close()
	var n int64
	buf := make([]byte, 256<<10)
	for {
		k, err := file.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err != nil {
			if strings.HasSuffix(strings.ToLower(path), ".csv") && n > 0 {
				n-- // most CSV manifests have a header
			}
			return n
		}
	}
}
