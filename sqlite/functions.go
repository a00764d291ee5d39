package sqlite

import (
	"database/sql/driver"
	"fmt"

	analytics "github.com/codestory/analytics"
	msqlite "modernc.org/sqlite"
)

// story_bucket(cost) is analytics.StoryCostBucket in SQL, for the story
// statistics' fills.
func init() {
	if err := msqlite.RegisterDeterministicScalarFunction("story_bucket", 1,
		func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			c, ok := args[0].(int64)
			if !ok {
				return nil, fmt.Errorf("story_bucket: want an integer, got %T", args[0])
			}
			return int64(analytics.StoryCostBucket(analytics.Micros(c))), nil
		}); err != nil {
		panic(err)
	}
}
