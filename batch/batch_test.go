package batch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/batch"
	"github.com/target-go/sdk/future"
)

// outcome is what a combinator test expects.
type outcome struct {
	err       error // errors.Is target, or nil
	panicked  bool  // the error is a *future.PanicError
	cancelled bool  // the blocking inputs were cancelled (else still pending)
}

// combCase is one case of a combinator over int futures returning R.
type combCase[R any] struct {
	name  string
	ins   []in
	order []int // the order the test settles the later inputs in
	want  R
	out   outcome
}

// runCases builds each case's inputs, combines them, settles them and
// checks the outcome; more, if not nil, checks the error further.
func runCases[R any](t *testing.T, tests []combCase[R], combine func(...*future.Future[int]) *future.Future[R], more func(*testing.T, combCase[R], error)) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := build(t, tt.ins...)
			f := combine(x.fs...)
			x.settle(tt.order...)
			got, err := f.Await(t.Context())
			checkOutcome(t, x, err, tt.out)
			if tt.out.err == nil {
				assert.Equal(t, tt.want, got)
			}
			if more != nil {
				more(t, tt, err)
			}
		})
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	runCases(t, []combCase[[]int]{
		{name: "empty", want: []int{}},
		{name: "one", ins: []in{{kind: later, v: 7}}, want: []int{7}},
		{name: "all succeed, settled in reverse", ins: []in{{kind: later, v: 1}, {kind: later, v: 2}, {kind: later, v: 3}}, order: []int{2, 1, 0}, want: []int{1, 2, 3}},
		{name: "all fail, the first in time wins", ins: []in{{kind: later, err: errA}, {kind: later, err: errB}}, order: []int{1, 0}, out: outcome{err: errB}},
		{name: "mixed", ins: []in{{kind: later, v: 1}, {kind: later, err: errA}, {kind: blocks}}, out: outcome{err: errA, cancelled: true}},
		{name: "panicking input", ins: []in{{kind: panics, err: errA}, {kind: blocks}}, out: outcome{err: errA, panicked: true, cancelled: true}},
		{name: "already settled", ins: []in{{kind: ok, v: 1}, {kind: ok, v: 2}}, want: []int{1, 2}},
		{name: "already failed", ins: []in{{kind: blocks}, {kind: failed, err: errA}}, out: outcome{err: errA, cancelled: true}},
		{name: "nil input", ins: []in{{kind: blocks}, {kind: null}}, out: outcome{err: batch.ErrNilFuture, cancelled: true}},
	}, batch.All, nil)
}

func checkOutcome(t *testing.T, x *inputs, err error, want outcome) {
	t.Helper()
	if want.err == nil {
		require.NoError(t, err)
	} else {
		require.ErrorIs(t, err, want.err)
	}
	var pe *future.PanicError
	assert.Equal(t, want.panicked, errors.As(err, &pe), "PanicError")
	if want.cancelled {
		x.requireCancelled(t)
	} else {
		x.requirePending(t)
	}
}

// Cancelling the future All returned cancels the inputs' work.
func TestAllCancel(t *testing.T) {
	t.Parallel()
	x := build(t, in{kind: blocks}, in{kind: blocks}, in{kind: ok, v: 1})
	f := batch.All(x.fs...)
	require.True(t, f.Cancel())
	_, err := f.Await(t.Context())
	require.ErrorIs(t, err, context.Canceled)
	x.requireCancelled(t)
	v, err := x.fs[2].Await(t.Context())
	require.NoError(t, err, "a settled input is untouched")
	assert.Equal(t, 1, v)
}

// A cancelled input derived with Then protects the future it came from.
func TestAllCancelsDerivedInputOnly(t *testing.T) {
	t.Parallel()
	p := future.NewPromise[int]()
	derived := future.Then(p.Future(), func(v int) (int, error) { return v, nil })
	f := batch.All(derived, future.Rejected[int](errA))
	_, err := f.Await(t.Context())
	require.ErrorIs(t, err, errA)
	_, err = derived.Peek()
	require.ErrorIs(t, err, context.Canceled)
	_, err = p.Future().Peek()
	require.ErrorIs(t, err, future.ErrPending, "the source is not cancelled")
}

func TestSettled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ins  []in
		want []batch.Result[int]
	}{
		{name: "empty", want: []batch.Result[int]{}},
		{name: "one", ins: []in{{kind: later, v: 7}}, want: []batch.Result[int]{{Value: 7}}},
		{name: "all succeed", ins: []in{{kind: later, v: 1}, {kind: ok, v: 2}}, want: []batch.Result[int]{{Value: 1}, {Value: 2}}},
		{name: "all fail", ins: []in{{kind: later, err: errA}, {kind: failed, err: errB}}, want: []batch.Result[int]{{Err: errA}, {Err: errB}}},
		{name: "mixed", ins: []in{{kind: later, v: 1}, {kind: later, err: errA}}, want: []batch.Result[int]{{Value: 1}, {Err: errA}}},
		{name: "already settled", ins: []in{{kind: ok, v: 1}, {kind: failed, err: errA}}, want: []batch.Result[int]{{Value: 1}, {Err: errA}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := build(t, tt.ins...)
			f := batch.Settled(x.fs...)
			x.settle(1, 0)
			got, err := f.Await(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("panicking and nil inputs", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: panics, err: errA}, in{kind: null}, in{kind: ok, v: 3})
		got, err := batch.Settled(x.fs...).Await(t.Context())
		require.NoError(t, err)
		require.Len(t, got, 3)
		var pe *future.PanicError
		require.ErrorAs(t, got[0].Err, &pe)
		assert.Equal(t, errA, pe.Value)
		require.ErrorIs(t, got[1].Err, batch.ErrNilFuture)
		assert.Equal(t, batch.Result[int]{Value: 3}, got[2])
	})
	t.Run("cancels nothing", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: blocks}, in{kind: failed, err: errA})
		f := batch.Settled(x.fs...)
		_, err := f.Peek()
		require.ErrorIs(t, err, future.ErrPending)
		x.requirePending(t)
		x.fs[0].Cancel()
		got, err := f.Await(t.Context())
		require.NoError(t, err)
		require.ErrorIs(t, got[0].Err, context.Canceled)
	})
}

func TestAny(t *testing.T) {
	t.Parallel()
	// every error the AllFailedError must hold, by case
	allErrs := map[string][]error{
		"all fail":        {errA, errB},
		"panicking input": {errA, errB},
		"nil input":       {batch.ErrNilFuture, errA},
	}
	runCases(t, []combCase[int]{
		{name: "empty", out: outcome{err: batch.ErrNoInputs}},
		{name: "one", ins: []in{{kind: later, v: 7}}, want: 7},
		{name: "all succeed, the first in time wins", ins: []in{{kind: later, v: 1}, {kind: later, v: 2}}, order: []int{1, 0}, want: 2},
		{name: "all fail", ins: []in{{kind: later, err: errA}, {kind: failed, err: errB}}, out: outcome{err: errA}},
		{name: "mixed", ins: []in{{kind: later, err: errA}, {kind: later, v: 2}, {kind: blocks}}, want: 2, out: outcome{cancelled: true}},
		{name: "panicking input", ins: []in{{kind: panics, err: errA}, {kind: failed, err: errB}}, out: outcome{err: errA, panicked: true}},
		{name: "already settled", ins: []in{{kind: blocks}, {kind: failed, err: errA}, {kind: ok, v: 3}}, want: 3, out: outcome{cancelled: true}},
		{name: "nil input", ins: []in{{kind: null}, {kind: later, err: errA}}, out: outcome{err: batch.ErrNilFuture}},
	}, batch.Any, func(t *testing.T, tt combCase[int], err error) {
		want, ok := allErrs[tt.name]
		if !ok {
			return
		}
		var all *batch.AllFailedError
		require.ErrorAs(t, err, &all)
		require.Len(t, all.Errs, len(want))
		for i, e := range want {
			require.ErrorIs(t, all.Errs[i], e)
		}
	})
}

func TestRace(t *testing.T) {
	t.Parallel()
	runCases(t, []combCase[int]{
		{name: "empty", out: outcome{err: batch.ErrNoInputs}},
		{name: "one", ins: []in{{kind: later, v: 7}}, want: 7},
		{name: "all succeed", ins: []in{{kind: later, v: 1}, {kind: later, v: 2}}, order: []int{1, 0}, want: 2},
		{name: "all fail", ins: []in{{kind: later, err: errA}, {kind: later, err: errB}}, order: []int{1, 0}, out: outcome{err: errB}},
		{name: "mixed, error first", ins: []in{{kind: later, v: 1}, {kind: later, err: errA}, {kind: blocks}}, order: []int{1, 0}, out: outcome{err: errA, cancelled: true}},
		{name: "panicking input", ins: []in{{kind: panics, err: errA}, {kind: blocks}}, out: outcome{err: errA, panicked: true, cancelled: true}},
		{name: "already settled, first in input order wins", ins: []in{{kind: blocks}, {kind: ok, v: 2}, {kind: failed, err: errA}}, want: 2, out: outcome{cancelled: true}},
	}, batch.Race, nil)
	t.Run("losers settle cancelled", func(t *testing.T) {
		t.Parallel()
		x := build(t, in{kind: later, v: 1}, in{kind: later, v: 2})
		f := batch.Race(x.fs...)
		x.settle(0)
		v, err := f.Await(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, v)
		_, err = x.fs[1].Peek()
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestQuorum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		k     int
		ins   []in
		order []int
		want  map[int]int
		out   outcome
		nerrs int
	}{
		{name: "empty", k: 1, out: outcome{err: nil}, nerrs: -1},
		{name: "k too large", k: 3, ins: []in{{kind: ok}, {kind: ok}}, nerrs: -1},
		{name: "k zero", k: 0, ins: []in{{kind: blocks}}, nerrs: -1},
		{name: "one", k: 1, ins: []in{{kind: later, v: 7}}, want: map[int]int{0: 7}},
		{name: "all succeed, first k in time", k: 2, ins: []in{{kind: later, v: 1}, {kind: later, v: 2}, {kind: later, v: 3}}, order: []int{2, 0, 1}, want: map[int]int{2: 3, 0: 1}},
		{name: "all fail, gives up once unreachable", k: 2, ins: []in{{kind: later, err: errA}, {kind: later, err: errB}, {kind: blocks}}, out: outcome{err: errA, cancelled: true}, nerrs: 2},
		{name: "mixed", k: 2, ins: []in{{kind: later, v: 1}, {kind: later, err: errA}, {kind: later, v: 3}, {kind: blocks}}, want: map[int]int{0: 1, 2: 3}, out: outcome{cancelled: true}},
		{name: "panicking input", k: 2, ins: []in{{kind: panics, err: errA}, {kind: failed, err: errB}, {kind: blocks}}, out: outcome{err: errA, panicked: true, cancelled: true}, nerrs: 2},
		{name: "already settled", k: 1, ins: []in{{kind: blocks}, {kind: ok, v: 2}}, want: map[int]int{1: 2}, out: outcome{cancelled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := build(t, tt.ins...)
			f := batch.Quorum(tt.k, x.fs...)
			x.settle(tt.order...)
			got, err := f.Await(t.Context())
			var qe *batch.QuorumError
			if tt.nerrs == -1 {
				require.ErrorAs(t, err, &qe)
				assert.Equal(t, tt.k, qe.Need)
				assert.Contains(t, err.Error(), "out of range")
				x.requirePending(t)
				return
			}
			checkOutcome(t, x, err, tt.out)
			if tt.out.err == nil {
				assert.Equal(t, tt.want, got)
				return
			}
			require.ErrorAs(t, err, &qe)
			assert.Len(t, qe.Errs, tt.nerrs)
		})
	}
}

// Cancelling the future a combinator returned cancels its inputs' work,
// for every combinator that can settle before its inputs.
func TestCancelResultCancelsInputs(t *testing.T) {
	t.Parallel()
	combinators := map[string]func(...*future.Future[int]) interface{ Cancel() bool }{
		"All":    func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.All(fs...) },
		"Any":    func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Any(fs...) },
		"Race":   func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Race(fs...) },
		"Quorum": func(fs ...*future.Future[int]) interface{ Cancel() bool } { return batch.Quorum(2, fs...) },
	}
	for name, combine := range combinators {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			x := build(t, in{kind: blocks}, in{kind: blocks}, in{kind: later})
			require.True(t, combine(x.fs...).Cancel())
			x.requireCancelled(t)
			_, err := x.fs[2].Peek()
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

// A callback on an input that panics when All cancels it does not stop
// the cancelling half-way: every input is cancelled, then the panic goes
// on up the goroutine that settled the failing input.
func TestAllCancelsEveryInputDespitePanickingCallback(t *testing.T) {
	t.Parallel()
	failing := future.NewPromise[int]()
	x := build(t, in{kind: later}, in{kind: blocks})
	x.fs[0].OnComplete(func(int, error) { panic("callback") })
	f := batch.All(failing.Future(), x.fs[0], x.fs[1])
	require.Panics(t, func() { _ = failing.Reject(errA) })
	_, err := f.Peek()
	require.ErrorIs(t, err, errA)
	_, err = x.fs[0].Peek()
	require.ErrorIs(t, err, context.Canceled)
	x.requireCancelled(t)
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "batch: all futures failed\n\ta failed\n\tb failed", (&batch.AllFailedError{Errs: []error{errA, errB}}).Error())
	assert.Equal(t, "batch: quorum of 2 unreachable: 1 of 2 futures failed\n\ta failed", (&batch.QuorumError{Need: 2, Total: 2, Errs: []error{errA}}).Error())
	assert.Equal(t, "batch: quorum of 3 out of range for 2 futures", (&batch.QuorumError{Need: 3, Total: 2}).Error())
}
