// Package app holds what every capability shares: the one application error
// type, the acting user carried in the context, and the clock.
package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Code classifies an application error. The set is small on purpose: each code
// maps once to an HTTP status, a JSON error body and a translated message.
type Code string

// The error codes.
const (
	Invalid      Code = "invalid"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	TooMany      Code = "too_many_requests"
	Internal     Code = "internal"
	// Unavailable: the server cannot serve the request just now (its
	// database does not answer, or it is busy); trying again later may
	// work. Never an authentication failure.
	Unavailable Code = "unavailable"
)

// Error is the application error. Message is English, for logs and the API;
// Key names the catalog message shown to users, with Args for its template.
// Field, when set, names the input field that is wrong.
type Error struct {
	Code    Code
	Field   string
	Key     string
	Args    map[string]any
	Message string
	// Fields carries one error per field when a form has several problems.
	Fields []*Error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an error with the given code and an English message.
func Errorf(code Code, key, format string, args ...any) *Error {
	return &Error{Code: code, Key: key, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid error tied to one input field.
// The English message may name args as the catalog does ({{.Name}}).
func FieldError(field, key, message string, args map[string]any) *Error {
	for k, v := range args {
		message = strings.ReplaceAll(message, "{{."+k+"}}", fmt.Sprint(v))
	}
	return &Error{Code: Invalid, Field: field, Key: key, Message: message, Args: args}
}

// ErrorCode returns the code of err, Internal for errors that are not *Error,
// and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if unreachable(err) {
		return Unavailable
	}
	return Internal
}

// AsError returns err as *Error, wrapping unknown errors as Internal without
// exposing their text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if unreachable(err) {
		return ErrUnavailable()
	}
	return &Error{Code: Internal, Key: "error.internal", Message: "internal error"}
}

// Validation collects field errors so that a form reports all of them at once.
type Validation struct{ errs []*Error }

// Add records a field error.
func (v *Validation) Add(field, key, message string, args map[string]any) {
	v.errs = append(v.errs, FieldError(field, key, message, args))
}

// HasField reports whether an error was recorded for the field.
func (v *Validation) HasField(field string) bool {
	for _, e := range v.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when nothing was added, and otherwise an Invalid error that
// reads as the first problem and carries all of them in Fields.
func (v *Validation) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	first := *v.errs[0]
	first.Fields = v.errs
	return &first
}

// ErrForbidden is the shared refusal for an actor that may not do something.
func ErrForbidden() *Error {
	return Errorf(Forbidden, "error.forbidden", "you are not allowed to do this")
}

// ErrUnavailable is the answer when the database does not answer.
func ErrUnavailable() *Error {
	return Errorf(Unavailable, "error.unavailable", "the database does not answer just now: try again in a minute")
}

// ErrUnauthenticated is the refusal for a missing or invalid identity.
func ErrUnauthenticated() *Error {
	return Errorf(Unauthorized, "error.unauthorized", "authentication required")
}

// ErrNotFound reports a missing object of the given kind.
func ErrNotFound(what string) *Error {
	return &Error{Code: NotFound, Key: "error.not_found", Message: what + " not found", Args: map[string]any{"What": what}}
}

// HTTPStatus maps an error code to its HTTP status, for pages and API alike.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooMany:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
