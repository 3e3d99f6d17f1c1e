package hookkit

import "syscall"

// dupOnto makes newfd a copy of oldfd (dup2; linux/arm64 has only dup3).
func dupOnto(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }
