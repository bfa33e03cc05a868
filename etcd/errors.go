package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSessionDone is returned (wrapped, so compare with errors.Is) by every
// wait and call on a Session that is done: closed, or its lease lost.
var ErrSessionDone = errors.New("coord/etcd: session done")

// ErrLost is returned (wrapped) by Mutex.Release and Semaphore.Release when
// the hold had already ended without them: its key was deleted, its lease
// expired or was revoked, or its session passed its early deadline. When
// the session is done, the error is also errors.Is ErrSessionDone.
var ErrLost = errors.New("coord/etcd: hold lost")

// ErrLocked is returned (wrapped) by Mutex.TryLock when another holder has
// the lock or is waiting for it.
var ErrLocked = errors.New("coord/etcd: locked by another holder")

// errKeyGone reports that a waiter's own key disappeared while it waited:
// its lease expired, or someone deleted it.
var errKeyGone = errors.New("key deleted while waiting")

// errWatchClosed reports a watch that closed without a reason.
var errWatchClosed = errors.New("watch closed")

// errNoAnswer is the error of a call bounded by opTimeout that the cluster
// did not answer in time. It replaces the context's DeadlineExceeded, which
// a caller would take for the expiry of its own ctx.
var errNoAnswer = fmt.Errorf("no answer from the cluster within %v", opTimeout)

// timedOut returns errNoAnswer when err is the expiry of ctx, a ctx made
// with opTimeout, and err otherwise.
func timedOut(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errNoAnswer
	}
	return err
}

// opError is how every error from the cluster is returned: it names the
// operation and the primitive, and unwraps to the client's error so that
// errors.Is(err, rpctypes.ErrPermissionDenied) and the like keep working.
type opError struct {
	op, name string
	err      error
}

func (e *opError) Error() string {
	var b strings.Builder
	b.WriteString("coord/etcd: ")
	b.WriteString(e.op)
	if e.name != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.name))
	}
	b.WriteString(": ")
	// Our own sentinels carry the package prefix when printed alone; do
	// not print it twice.
	b.WriteString(strings.TrimPrefix(e.err.Error(), "coord/etcd: "))
	return b.String()
}

func (e *opError) Unwrap() error { return e.err }

func wrapErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, name: name, err: err}
}

// lostError is ErrLost for a hold whose session is done: it errors.Is both
// ErrLost and the session's cause (ErrSessionDone).
type lostError struct{ cause error }

func (e *lostError) Error() string {
	return ErrLost.Error() + ": " + strings.TrimPrefix(e.cause.Error(), "coord/etcd: ")
}

func (e *lostError) Is(target error) bool { return target == ErrLost }

func (e *lostError) Unwrap() error { return e.cause }
