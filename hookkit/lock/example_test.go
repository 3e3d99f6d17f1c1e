package lock_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

func Example() {
	dir, _ := os.MkdirTemp("", "locks")
	defer os.RemoveAll(dir)

	// In a hook: lock.Options{Timeout: 10 * time.Second} uses /run/lock/hookkit.
	l, err := lock.Acquire(context.Background(), "portforward", lock.Options{Dir: dir, Timeout: 10 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Release()

	// A second taker gives up when the timeout expires.
	_, err = lock.Acquire(context.Background(), "portforward", lock.Options{Dir: dir, Timeout: 10 * time.Millisecond})
	fmt.Println(err != nil)
	// Output: true
}

func ExampleWith() {
	dir, _ := os.MkdirTemp("", "locks")
	defer os.RemoveAll(dir)

	err := lock.With(context.Background(), "iptables", lock.Options{Dir: dir, Timeout: 10 * time.Second}, func() error {
		// read-modify-write something shared between hook invocations
		return nil
	})
	fmt.Println(err)
	// Output: <nil>
}
