package emulator

import "strconv"

// The paging of the list answers (executions, inventory trigger jobs):
// size, orderByTime and nextToken, read the same way by each.

// querySize reads a list's page size: 1 to 100, 10 when absent.
func querySize(pairs []pair) (int, *apiError) {
	v, _ := queryGet(pairs, "size")
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, errInvalidArgument("size must be between 1 and 100, got " + strconv.Quote(v))
	}
	return n, nil
}

// queryAscending reads orderByTime: Asc lists the oldest first, Desc (the
// default) the newest.
func queryAscending(pairs []pair) (bool, *apiError) {
	switch v, _ := queryGet(pairs, "orderByTime"); v {
	case "", "Desc":
		return false, nil
	case "Asc":
		return true, nil
	default:
		return false, errInvalidArgument("orderByTime must be Asc or Desc, got " + strconv.Quote(v))
	}
}

// queryScan returns where the scan of a list of n entries starts and its
// step: at nextToken (the opaque token is an index into the list) when
// given, else at the oldest end (asc) or the newest.
func queryScan(pairs []pair, n int, asc bool) (pos, step int, e *apiError) {
	pos, step = n-1, -1
	if asc {
		pos, step = 0, 1
	}
	if v, _ := queryGet(pairs, "nextToken"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= n {
			return 0, 0, errInvalidArgument("invalid nextToken " + strconv.Quote(v))
		}
		pos = i
	}
	return pos, step, nil
}
