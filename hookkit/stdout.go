package hookkit

import (
	"io"
	"os"
	"syscall"
)

// muteStdout points the hook's stdout at /dev/null while a filter's handlers run. It returns the writer
// the Router writes the document to, a close-on-exec duplicate of the original stdout, and the function
// that points stdout back and closes the duplicate. Whatever a handler, a library it calls or a program
// it starts prints on stdout would otherwise reach libvirt ahead of the document: libvirt parses a
// migrate or restore hook's whole stdout as the new XML and fails the operation, and a <driver>.d script
// after this one gets it as its input.
//
// Writes are dropped rather than sent to stderr or the log: a migrate document carries secrets, and a
// handler that prints it must not leak it anywhere. The duplicate is close-on-exec, so programs the
// handlers start cannot hold libvirt's pipe open (libvirt waits until every copy of the hook's stdout is
// closed). Being a descriptor other than 1, a write to it that finds libvirt's end closed fails with
// EPIPE instead of raising SIGPIPE, which is why Main need not ignore SIGPIPE (an ignored signal would
// stay ignored in every program the handlers run). When stdout is not a file, or a step fails, nothing
// is changed and w is returned as is.
func muteStdout(w io.Writer) (out io.Writer, unmute func()) {
	f, ok := w.(*os.File)
	if !ok {
		return w, func() {}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return w, func() {}
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
		return w, func() {}
	}
	orig := os.NewFile(uintptr(saved), f.Name())
	return orig, func() {
		_ = rc.Control(func(fd uintptr) { _ = dupOnto(saved, int(fd)) })
		orig.Close()
	}
}
