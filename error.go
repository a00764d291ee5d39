package analytics

import (
	"errors"
	"fmt"
)

// Kind classifies an error for every front door: HTTP status, MCP tool error
// and CLI exit code are all derived from it in one place (ErrorKind).
type Kind int

// Error kinds.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindForbidden
	KindRateLimited
	KindNotFound
	KindConflict
	KindTooLarge
	KindUnavailable
)

// Error is an error whose message is safe to show to the caller.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the Kind of err (KindInternal when err is not an *Error).
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns what a caller may see: the message of an *Error, or
// "internal error" for anything else (the detail goes to the log).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// The seed's validation messages; other tools match on them.
var (
	ErrDateFormat     = &Error{KindInvalid, "Invalid date format (expected YYYY-MM-DD)"}
	ErrEndBeforeStart = &Error{KindInvalid, "End date must be after start date"}
	ErrRangeTooLong   = &Error{KindInvalid, "Date range cannot exceed 365 days"}
	ErrRateLimited    = &Error{KindRateLimited, "Rate limit exceeded: 30 analytics requests per minute"}
)
