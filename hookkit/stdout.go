package hookkit

import (
	"io"
	"os"
	"syscall"
)

// muteStdout points the hook's stdout at /dev/null while a filter's handlers run, and returns the
// function that points it back. Whatever a handler, a library it calls or a program it starts prints on
// stdout would otherwise reach libvirt ahead of the document: libvirt parses a migrate or restore hook's
// whole stdout as the new XML and fails the operation, and a <driver>.d script after this one gets it as
// its input. Only the Router writes to stdout, once, after the handlers returned.
//
// Writes are dropped rather than sent to stderr or the log: a migrate document carries secrets, and a
// handler that prints it must not leak it anywhere. The original stdout is kept on a close-on-exec
// duplicate, so that programs the handlers start cannot hold it open (libvirt waits until every copy of
// the hook's stdout is closed). When stdout is not a file, or a step fails, nothing is changed.
func muteStdout(w io.Writer) (unmute func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return func() {}
	}
	saved := -1
	_ = rc.Control(func(fd uintptr) {
		null, err := syscall.Open(os.DevNull, syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		defer syscall.Close(null)
		dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			return
		}
		if err := dupOnto(null, int(fd)); err != nil {
			syscall.Close(int(dup))
			return
		}
		saved = int(dup)
	})
	if saved < 0 {
		return func() {}
	}
	return func() {
		_ = rc.Control(func(fd uintptr) { _ = dupOnto(saved, int(fd)) })
		syscall.Close(saved)
	}
}
