package future

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// A PanicError is the error of a future whose work or continuation panicked.
// It keeps the panic value and the stack of the goroutine at the panic, so
// that the failure can be reported where the future is awaited.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack trace at the panic, as printed by
	// runtime/debug.Stack.
	Stack []byte
}

func newPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Error describes the panic value; the stack is in the Stack field.
func (p *PanicError) Error() string {
	return fmt.Sprintf("future: panic: %v", p.Value)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through a panic(err).
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

var (
	// errGoexit settles a future whose work called runtime.Goexit
	// (t.FailNow in a test, say) instead of returning.
	errGoexit = errors.New("future: work called runtime.Goexit")
	// errNilReject replaces a nil error given to Rejected or Reject.
	errNilReject = errors.New("future: rejected with a nil error")
)
