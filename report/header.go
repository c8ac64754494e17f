package report

import "errors"

// ReadHeader reads what the report at path says of its run (version,
// bucket, region, workflow, endpoints, times) without reading its objects.
// It neither takes the lock nor reads the journal.
func ReadHeader(path string) (Header, error) {
	h, err := Scan(path, func(Entry) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return Header{}, err
	}
	return h, nil
}

// DefaultPath is the report of a run that names none.
const DefaultPath = "wftrigger-report.json"
