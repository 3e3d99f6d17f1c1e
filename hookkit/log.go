package hookkit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// The default log sink: syslog when a syslog socket answers, else a file, else nothing. It is opened on
// the first record, so a hook that logs nothing pays nothing, and it never blocks the hook for long:
// stderr and stdout belong to libvirt (the error line and the filter output), never to logs.

// syslogSockets are the local syslog sockets tried in order.
var syslogSockets = []string{"/dev/log", "/var/run/syslog", "/var/run/log"}

// sinkTimeout bounds every connect and write to the syslog socket.
const sinkTimeout = 200 * time.Millisecond

type sink struct {
	mu       sync.Mutex
	program  string
	file     string
	opened   bool
	sock     int // syslog datagram socket, -1 when none
	hasSock  bool
	f        *os.File // fallback file
	severity int
}

func (s *sink) open() {
	s.opened = true
	for _, path := range syslogSockets {
		if fd, err := dialSyslog(path); err == nil {
			s.sock, s.hasSock = fd, true
			return
		}
	}
	s.openFile()
}

func (s *sink) openFile() {
	path := s.file
	if path == "" {
		path = filepath.Join("/var/log/hookkit", s.program+".log")
	}
	_ = os.MkdirAll(filepath.Dir(path), 0o700)
	// O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of blocking the open; with it a pipe
	// or FIFO is pollable, so the write deadline below bounds a reader that stopped reading.
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600); err == nil {
		s.f = f
	}
}

// Write sends one formatted record; errors are swallowed after falling back to the next sink.
func (s *sink) Write(p []byte) (int, error) {
	if !s.opened {
		s.open()
	}
	if s.hasSock {
		// RFC 3164 without a timestamp: the syslog daemon adds its own. Facility daemon (3).
		msg := fmt.Appendf(nil, "<%d>%s[%d]: %s", 3<<3|s.severity, s.program, os.Getpid(), p)
		if _, err := syscall.Write(s.sock, msg); err == nil {
			return len(p), nil
		}
		syscall.Close(s.sock)
		s.hasSock = false
		s.openFile()
	}
	if s.f != nil {
		_ = s.f.SetWriteDeadline(time.Now().Add(sinkTimeout)) // regular files ignore it
		if _, err := s.f.Write(p); err != nil {
			s.f.Close()
			s.f = nil
		}
	}
	return len(p), nil
}

// dialSyslog connects a unix datagram socket to the syslog daemon at path, with a send timeout so that a
// stuck daemon cannot hold the hook. It uses syscall directly: importing package net would make every hook
// binary dynamically linked against libc (cgo resolver) and cost about a millisecond per process.
func dialSyslog(path string) (int, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	tv := syscall.NsecToTimeval(sinkTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// logBounded runs f, which logs, and waits for it at most twice the sink timeout: the hook's answer to
// libvirt must never wait behind a log sink that stalls in a way no deadline reaches (a hung network file
// system blocks a regular file's write in the kernel), nor behind a handler stuck in such a write while
// it holds the sink.
func logBounded(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(2 * sinkTimeout):
	}
}

// sinkHandler formats records as slog text lines and hands them to the sink with their syslog severity.
type sinkHandler struct {
	text slog.Handler
	s    *sink
}

func newSinkHandler(program, file string, level slog.Level) slog.Handler {
	s := &sink{program: program, file: file}
	return &sinkHandler{text: slog.NewTextHandler(s, &slog.HandlerOptions{Level: level}), s: s}
}

func (h *sinkHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.text.Enabled(ctx, l) }

func (h *sinkHandler) Handle(ctx context.Context, r slog.Record) error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.severity = severity(r.Level)
	return h.text.Handle(ctx, r)
}

func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sinkHandler{text: h.text.WithAttrs(as), s: h.s}
}

func (h *sinkHandler) WithGroup(name string) slog.Handler {
	return &sinkHandler{text: h.text.WithGroup(name), s: h.s}
}

// severity maps a slog level to a syslog severity.
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3 // err
	case l >= slog.LevelWarn:
		return 4 // warning
	case l >= slog.LevelInfo:
		return 6 // info
	}
	return 7 // debug
}
