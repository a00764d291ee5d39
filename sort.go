package analytics

import (
	"cmp"
	"slices"
)

// sortCosts orders by cost descending, then by name ascending, so equal
// costs come out the same way on every engine.
func sortCosts[T any](s []T, key func(T) (Micros, string)) {
	slices.SortStableFunc(s, func(a, b T) int {
		ca, na := key(a)
		cb, nb := key(b)
		if c := cmp.Compare(cb, ca); c != 0 {
			return c
		}
		return cmp.Compare(na, nb)
	})
}
